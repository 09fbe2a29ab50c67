"""REST routes of activity (contract core.md §9.1, §9.16–§9.19): project connections, image
consultations, positions and who is online, annotation actions, users' activity.

Posting a record answers the bare record (no command); listings take Cytomine's envelopes,
with dates as epoch-millisecond numbers in ad-hoc rows (core.md §6.1); connection histories
and consultation resumes also come as CSV files (`export=csv`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web

from resolvers.errors import InvalidInput
from rest_compat.envelopes import Call, Streamed, bare, items, page, single, within
from rest_compat.report_file import attachment, csv_chunks, csv_parts, download_headers, streamed
from rest_compat.routes import Route, flag
from rest_compat.shapes import JSON, domain, epoch_ms_number
from rest_compat.user import user_json
from schema.executor import CompletedRows

__all__ = [
    "ROUTES",
    "annotation_action_json",
    "image_consultation_json",
    "position_json",
    "project_connection_json",
]

project_connection_json = domain("social.PersistentProjectConnection", hide_null=("online",))
image_consultation_json = domain("social.PersistentImageConsultation")
position_json = domain("social.PersistentUserPosition")
last_position_json = domain("social.LastUserPosition")
annotation_action_json = domain("social.AnnotationAction")


def _dated(*keys: str) -> Any:
    """A shaper turning the `keys` dates into numbers of epoch ms (ad-hoc rows, §6.1)."""

    def shape(node: JSON) -> JSON:
        for key in keys:
            if key in node:
                node[key] = epoch_ms_number(node[key])
        return node

    return shape


def _frequency_json(node: JSON) -> JSON:
    """Per user `{user, frequency}`, per period `{time, frequency}`."""
    if node.get("time") is None:
        return {"user": node["user"], "frequency": int(node["frequency"])}
    return {"time": epoch_ms_number(node["time"]), "frequency": int(node["frequency"])}


def _average_json(node: JSON) -> JSON:
    return {"time": epoch_ms_number(node["time"]), "frequency": node["frequency"]}


def _as_text(value: Any) -> Any:
    """Follower ids are listed as strings (core.md §9.18)."""
    return str(value)


def _total(value: Any) -> JSON:
    return {"total": value}


def _last_position(data: Any, call: Call) -> web.StreamResponse:
    """The user's last position, or `{}` when they have none (core.md §9.18)."""
    found = next(iter(data.values()))
    return bare(lambda _: {} if found is None else last_position_json(found))(data, call)


def _online_user_json(node: JSON) -> JSON:
    return {
        "id": node["id"],
        "position": [
            {"id": p["imageId"], "image": p["imageId"], "slice": p["sliceId"],
             "filename": p["imageName"], "originalFilename": p["imageName"],
             "date": epoch_ms_number(p["date"])}
            for p in node["positions"]
        ],
    }  # fmt: skip


def _user_activity_json(node: JSON) -> JSON:
    user = node["user"]
    out = {"id": user["id"], "username": user["username"], "firstname": user["firstname"],
           "lastname": user["lastname"], "email": user.get("email"),
           "lastImageId": node["lastImageId"], "lastImageName": node["lastImageName"],
           "lastConnection": epoch_ms_number(node["lastConnection"]),
           "frequency": node["frequency"]}  # fmt: skip
    if out["email"] is None:
        del out["email"]
    return out


def _readable_date(iso: str | None) -> str:
    if iso is None:
        return ""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _csv(
    filename: str, columns: list[str], nodes: Any, row: Callable[[Any], list[Any]]
) -> web.StreamResponse:
    """A file of a row per node; a whole list (`CompletedRows`) written as it is read."""
    if isinstance(nodes, CompletedRows):
        parts = csv_parts(columns, ([row(n) for n in part] async for part in nodes))
        return Streamed(parts, download_headers(filename), "text/csv")
    return attachment(streamed(csv_chunks(columns, map(row, nodes))), filename, "text/csv")


def _today() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


def _connection_history_csv(data: Any, call: Call) -> web.StreamResponse:
    """A user's connections to a project as CSV (Cytomine's columns)."""
    nodes = next(iter(data.values()))["nodes"]
    name = (f"user_{call.path.get('user', '')}_connections_project_"
            f"{call.path.get('project', '')}_{_today()}.csv")  # fmt: skip
    columns = ["Date", "Duration (ms)", "Number of viewed images",
               "Number of created annotations", "Operating System", "Browser",
               "Browser Version"]  # fmt: skip
    return _csv(name, columns, nodes, _connection_row)


def _connection_row(n: Any) -> list[Any]:
    return [_readable_date(n["created"]), n["time"], n["countViewedImages"],
            n["countCreatedAnnotations"], n["os"], n["browser"], n["browserVersion"]]  # fmt: skip


def _resume_csv(data: Any, call: Call) -> web.StreamResponse:
    """A user's consultations per image as CSV (Cytomine's columns)."""
    nodes = next(iter(data.values()))
    name = (f"image_consultations_of_user_{call.query.get('user', '')}_project_"
            f"{call.query.get('project', '')}_{_today()}.csv")  # fmt: skip
    columns = ["Cumulated duration (ms)", "First consultation", "Last consultation",
               "Number of consultations", "Id of image", "Name", "Thumb",
               "Number of created annotations"]  # fmt: skip
    return _csv(name, columns, nodes, _resume_row)


def _resume_row(n: Any) -> list[Any]:
    return [n["time"], _readable_date(n["first"]), _readable_date(n["last"]), n["frequency"],
            n["image"], n["imageName"], n["imageThumb"], n["countCreatedAnnotations"]]  # fmt: skip


def _csv_export(query: Mapping[str, str]) -> bool:
    return query.get("export", "").lower() == "csv"


def _cytomine_paging(params: Mapping[str, Any]) -> dict[str, Any]:
    """`projectConnection/{id}.json` pages with `start` (the page size) and `length` (the
    offset), as Cytomine names them; `max` and `offset` work too."""
    derived: dict[str, Any] = {}
    for name, variable in (("start", "max"), ("length", "offset")):
        text = params.get(name)
        if text in (None, ""):
            continue
        try:
            value = int(text)
        except (TypeError, ValueError):
            raise InvalidInput(f"Parameter {name} must be a whole number") from None
        if not 0 <= value < 2**31:
            raise InvalidInput(f"Parameter {name} must be between 0 and {2**31 - 1}")
        derived[variable] = (value or None) if variable == "max" else value
    return derived


_PROJECT: Final = "/api/project/{project:int}"
_IMAGE: Final = "/api/imageinstance/{image:int}"
_SLICE: Final = "/api/sliceinstance/{slice:int}"
_dated_created = _dated("created")
_resume_json = _dated("first", "last")
_distinct_json = _dated("created")

ROUTES: Final = (
    # project connections
    Route("POST", f"{_PROJECT}/userconnection.json", "ProjectConnectionCreate",
          within("projectConnection", single(project_connection_json)), body="*", form=True),
    Route("GET", f"{_PROJECT}/userconnection/{{user:int}}.json", "ProjectConnections",
          page(project_connection_json)),
    Route("GET", f"{_PROJECT}/connectionHistory/{{user:int}}.json", "ProjectConnections",
          page(project_connection_json)),
    Route("GET", f"{_PROJECT}/connectionHistory/{{user:int}}.json", "ProjectConnections",
          _connection_history_csv, when=_csv_export),
    Route("GET", f"{_PROJECT}/lastConnection.json", "ProjectLastConnections",
          items(_dated_created)),
    Route("GET", f"{_PROJECT}/lastConnection/{{user:int}}.json", "ProjectLastConnections",
          items(_dated_created)),
    Route("GET", f"{_PROJECT}/connectionFrequency.json", "ConnectionFrequency",
          items(_frequency_json)),
    Route("GET", f"{_PROJECT}/connectionFrequency/{{user:int}}.json", "ConnectionFrequency",
          items(_frequency_json)),
    Route("GET", "/api/connectionFrequency.json", "ConnectionFrequency", items(_frequency_json),
          fixed={"heatmap": False}),
    Route("GET", "/api/averageConnections.json", "AverageConnections", items(_average_json)),
    Route("GET", f"{_PROJECT}/userconnection/count.json", "ProjectConnectionCount",
          bare(_total)),
    Route("GET", "/api/projectConnection/{id:int}.json", "ProjectConnectionConsultations",
          page(image_consultation_json), derive=_cytomine_paging),
    # image consultations
    Route("POST", f"{_IMAGE}/consultation.json", "ImageConsultationCreate",
          within("imageConsultation", single(image_consultation_json)), body="*", form=True),
    Route("GET", f"{_PROJECT}/user/{{user:int}}/imageconsultation.json", "ImageConsultations",
          page(image_consultation_json)),
    Route("GET", f"{_PROJECT}/user/{{user:int}}/imageconsultation.json",
          "DistinctImageConsultations", items(_distinct_json), when=flag("distinctImages")),
    Route("GET", f"{_PROJECT}/lastImages.json", "ProjectLastImages", items(_dated_created)),
    Route("GET", f"{_PROJECT}/imageconsultation/count.json", "ImageConsultationCount",
          bare(_total)),
    Route("GET", "/api/imageconsultation/resume.json", "ImageConsultationResume",
          items(_resume_json)),
    Route("GET", "/api/imageconsultation/resume.json", "ImageConsultationResume", _resume_csv,
          when=_csv_export),
    # positions
    Route("POST", f"{_IMAGE}/position.json", "PositionCreate",
          within("position", single(position_json)), body="*"),
    Route("POST", f"{_SLICE}/position.json", "PositionCreate",
          within("position", single(position_json)), body="*"),
    Route("GET", f"{_IMAGE}/position/{{user:int}}.json", "LastPosition", _last_position),
    *(Route("GET", f"{where}/{name}.json", operation, envelope, when=when)
      for where in (_IMAGE, _SLICE) for name in ("positions", "position")
      for operation, envelope, when in (
          ("PositionSummary", items(lambda node: node), None),
          ("Positions", page(position_json), flag("showDetails")))),
    Route("GET", "/api/position/{id:int}.json", "PositionShow", single(position_json)),
    Route("GET", f"{_IMAGE}/online.json", "ImageOnlineUsers", bare(lambda ids: {"users": ids})),
    Route("GET", f"{_IMAGE}/followers/{{user:int}}.json", "PositionFollowers", items(_as_text)),
    Route("GET", f"{_PROJECT}/online/user.json", "ProjectOnlineUsers", items(_online_user_json)),
    # annotation actions
    Route("POST", "/api/annotation_action.json", "AnnotationActionCreate",
          within("annotationAction", single(annotation_action_json)), body="*"),
    Route("GET", "/api/annotation_action/{id:int}.json", "AnnotationActionShow",
          single(annotation_action_json)),
    Route("GET", f"{_IMAGE}/annotation_action.json", "AnnotationActions",
          page(annotation_action_json)),
    Route("GET", f"{_SLICE}/annotation_action.json", "AnnotationActions",
          page(annotation_action_json)),
    Route("GET", f"{_PROJECT}/annotation_action/count.json", "AnnotationActionCount",
          bare(_total)),
    # users' activity
    Route("GET", "/api/user/{user:int}/friends.json", "UserFriends", items(user_json)),
    Route("GET", f"{_PROJECT}/usersActivity.json", "UsersActivity", items(_user_activity_json)),
    Route("GET", f"{_PROJECT}/resumeActivity/{{user:int}}.json", "UserActivityResume",
          bare(_dated("firstConnection", "lastConnection"))),
)  # fmt: skip
