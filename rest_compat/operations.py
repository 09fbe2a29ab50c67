"""The named GraphQL operations REST routes run, loaded from `operations/*.graphql`.

The directory is validated against the schema once at start-up (and in a test), and each
operation is cut out with the fragments it uses into a document of its own, so a request only
looks it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Visitor,
    parse,
    print_ast,
    type_from_ast,
    validate,
    visit,
)

from rest_compat.variables import Reader, body_reader

__all__ = ["Operation", "load_operations"]

OPERATIONS_DIR: Final = Path(__file__).parent / "operations"


@dataclass(frozen=True, slots=True)
class Operation:
    """One named operation: its own document text, its variables' types and how a JSON body
    value of each is read (`rest_compat.variables.body_reader`)."""

    name: str
    text: str
    variables: dict[str, GraphQLInputType]
    readers: dict[str, Reader]
    writes: bool = False


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.add(node.name.value)


def _fragments_of(node: object, fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    needed: list[str] = []
    pending = [node]
    while pending:
        spreads = _Spreads()
        visit(pending.pop(), spreads)  # type: ignore[arg-type]
        for name in sorted(spreads.names):
            if name not in needed:
                if name not in fragments:
                    raise ValueError(f"unknown fragment {name}")
                needed.append(name)
                pending.append(fragments[name])
    return needed


def load_operations(
    schema: GraphQLSchema, directory: Path = OPERATIONS_DIR
) -> dict[str, Operation]:
    """Every operation of the directory, validated; raises ValueError on any problem.

    The whole directory is validated as one document (one pass of the rules, which also
    catches unused fragments); each operation is then cut out with its fragments.
    """
    sources = [path.read_text() for path in sorted(directory.glob("*.graphql"))]
    document: DocumentNode = parse("\n".join(sources))
    errors = validate(schema, document)
    if errors:
        raise ValueError(f"invalid REST operations: {'; '.join(e.message for e in errors)}")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    printed = {name: print_ast(fragment) for name, fragment in fragments.items()}
    operations: dict[str, Operation] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if definition.name is None:
            raise ValueError("every REST operation needs a name")
        name = definition.name.value
        if name in operations:
            raise ValueError(f"operation {name} is defined twice")
        used = _fragments_of(definition, fragments)
        text = "\n\n".join([print_ast(definition), *(printed[f] for f in used)])
        variables: dict[str, GraphQLInputType] = {}
        for var in definition.variable_definitions or ():
            var_type = type_from_ast(schema, var.type)
            assert var_type is not None  # validated above
            variables[var.variable.name.value] = var_type  # type: ignore[assignment]
        writes = definition.operation == OperationType.MUTATION
        readers = {key: body_reader(type_) for key, type_ in variables.items()}
        operations[name] = Operation(name, text, variables, readers, writes)
    return operations
