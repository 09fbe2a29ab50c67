"""Projects: their rows and counters, creation, replacement and deletion, and the project
lists and bounds (contract core.md §4.3, §7.2–§7.4, §9.3).

A project itself is four modules: `rows` (batch loaders, list columns, "last opened" sources),
`rules` (undo/redo spec, checks on fields, terms outside the ontology), `reads` and `writes`
(what the schema calls). Three more hold what a project has: `member` (members), `invitation`
(inviting someone new), `layer` (representatives and default layers). Its row and who may do
what in it are `resolvers.project_access`, beside this package: tags and metadata build on it,
and a module inside the package would import the whole package, which imports them back. This
package re-exports them all, so `resolvers.project` stays the area's one entry point.
"""

from resolvers.project.invitation import InvitationFields, invite_to_project
from resolvers.project.layer import (
    DEFAULT_LAYER,
    REPRESENTATIVE,
    DefaultLayerFields,
    RepresentativeFields,
    create_default_layer,
    create_representative,
    default_layers_by_project,
    delete_default_layer,
    delete_representative,
    get_default_layer,
    get_representative,
    project_default_layers,
    project_representatives,
    representatives_by_project,
    update_default_layer,
)
from resolvers.project.member import (
    MEMBER_REPORT_COLUMNS,
    MemberQuery,
    MembershipChange,
    add_member,
    add_members,
    member_report,
    project_creator,
    project_members,
    remove_member,
    remove_members,
    user_layers,
)
from resolvers.project.reads import (
    Bounds,
    OpenedProject,
    ProjectExtras,
    ProjectRelation,
    current_user_roles,
    last_activity,
    last_opened_projects,
    list_projects,
    list_user_projects,
    members_count,
    project_bounds,
)
from resolvers.project.rows import projects_by_ontology
from resolvers.project.rules import PROJECT, ProjectFields
from resolvers.project.writes import create_project, delete_project, update_project
from resolvers.project_access import (
    ProjectAccess,
    ProjectRow,
    get_project,
    project_access,
    projects_by_id,
    reader_of,
    visible_condition,
    visible_projects,
)

__all__ = [
    "DEFAULT_LAYER",
    "MEMBER_REPORT_COLUMNS",
    "PROJECT",
    "REPRESENTATIVE",
    "Bounds",
    "DefaultLayerFields",
    "InvitationFields",
    "MemberQuery",
    "MembershipChange",
    "OpenedProject",
    "ProjectAccess",
    "ProjectExtras",
    "ProjectFields",
    "ProjectRelation",
    "ProjectRow",
    "RepresentativeFields",
    "add_member",
    "add_members",
    "create_default_layer",
    "create_project",
    "create_representative",
    "current_user_roles",
    "default_layers_by_project",
    "delete_default_layer",
    "delete_project",
    "delete_representative",
    "get_default_layer",
    "get_project",
    "get_representative",
    "invite_to_project",
    "last_activity",
    "last_opened_projects",
    "list_projects",
    "list_user_projects",
    "member_report",
    "members_count",
    "project_access",
    "project_bounds",
    "project_creator",
    "project_default_layers",
    "project_members",
    "project_representatives",
    "projects_by_id",
    "projects_by_ontology",
    "reader_of",
    "remove_member",
    "remove_members",
    "representatives_by_project",
    "update_default_layer",
    "update_project",
    "user_layers",
    "visible_condition",
    "visible_projects",
]
