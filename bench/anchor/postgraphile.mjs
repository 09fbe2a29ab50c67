// PostGraphile 5, the peer of bench/anchor.py: its Amber preset over the benchmark database,
// served on loopback by grafserv on Node's http server, one worker. Nothing is configured to
// make it slower or faster than its defaults for production: no GraphiQL, no watch mode, no
// subscriptions, no per-request settings (which would add a transaction per request).
// Geometry columns have no codec in stock PostGraphile and are left out of its schema; the
// query shapes read the annotations' stored WKT text instead, as cytogate's listings do.
//
// cytogate checks an annotation's slice, image and project with one composite foreign key to
// the slice (its migration 0008); PostGraphile infers relations from foreign keys alone, so the
// single keys to the image and the project are declared to it as smart tags, as a deployment
// of PostGraphile over this schema would: the relations (and the SQL they run) stay those of
// the single keys.
//
// Environment: DATABASE_URL, PORT (loopback), POOL (connections; default 10).
// Prints "READY <url>" once its schema is built.
import { createServer } from "node:http";

import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { jsonPgSmartTags } from "postgraphile/utils";

const port = Number(process.env.PORT || 5678);
const pool = Number(process.env.POOL || 10);

const placed = {
  tags: {
    foreignKey: [
      "(image_id) references image_instance (id)",
      "(project_id) references project (id)",
    ],
  },
};
const relations = jsonPgSmartTags({
  version: 1,
  config: { class: { user_annotation: placed, reviewed_annotation: placed } },
});

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset],
  plugins: [relations],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: pool },
      pubsub: false,
    }),
  ],
  grafserv: { port, graphqlPath: "/graphql", graphiql: false, watch: false, websockets: false },
  grafast: { explain: false },
});

const serv = pgl.createServ(grafserv);
const server = createServer();
await pgl.getSchema();
await serv.addTo(server);
server.listen({ host: "127.0.0.1", port }, () => {
  console.log(`READY http://127.0.0.1:${port}/graphql`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, async () => {
    server.close();
    await pgl.release();
    process.exit(0);
  });
}
