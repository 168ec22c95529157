"""THE route table: every path mlgate serves, on one screen.

Each route names the OpenSearch action it performs, which is what the authorization point checks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mlgate.api.handlers import batch, cluster, controllers, ml_stats, mlgate, nodes, resources, security
from mlgate.api.http import Request, Response
from mlgate.domain import security as sec
from mlgate.services.container import Services

Handler = Callable[[Request, Services], Awaitable[Response]]

ML = "/_plugins/_ml"
A = "cluster:admin/opensearch/ml"
# Node-to-node routes: authenticated by the cluster's node token, never by a user.
INTERNAL = "internal:mlgate/node"


@dataclass(frozen=True)
class Route:
    """One method + path template → handler, with the action it performs."""

    method: str
    path: str
    handler: Handler
    action: str


SEC = "/_plugins/_security"
SECURITY_ROUTES: tuple[Route, ...] = (
    Route("GET", f"{SEC}/authinfo", security.authinfo, sec.AUTHINFO_ACTION),
    Route("POST", f"{SEC}/authinfo", security.authinfo, sec.AUTHINFO_ACTION),
    Route("GET", f"{SEC}/api/account", security.get_account, sec.ACCOUNT_ACTION),
    Route("PUT", f"{SEC}/api/account", security.put_account, sec.ACCOUNT_ACTION),
    Route("GET", f"{SEC}/api/internalusers", security.list_users, sec.USERS_ACTION),
    Route("GET", f"{SEC}/api/internalusers/{{name}}", security.get_user, sec.USERS_ACTION),
    Route("PUT", f"{SEC}/api/internalusers/{{name}}", security.put_user, sec.USERS_ACTION),
    Route("DELETE", f"{SEC}/api/internalusers/{{name}}", security.delete_user, sec.USERS_ACTION),
    Route("PATCH", f"{SEC}/api/internalusers", security.patch_users, sec.USERS_ACTION),
    Route("PATCH", f"{SEC}/api/internalusers/{{name}}", security.patch_user, sec.USERS_ACTION),
    Route("GET", f"{SEC}/api/roles", security.list_roles, sec.ROLES_ACTION),
    Route("GET", f"{SEC}/api/roles/{{name}}", security.get_role, sec.ROLES_ACTION),
    Route("PUT", f"{SEC}/api/roles/{{name}}", security.put_role, sec.ROLES_ACTION),
    Route("DELETE", f"{SEC}/api/roles/{{name}}", security.delete_role, sec.ROLES_ACTION),
    Route("PATCH", f"{SEC}/api/roles", security.patch_roles, sec.ROLES_ACTION),
    Route("PATCH", f"{SEC}/api/roles/{{name}}", security.patch_role, sec.ROLES_ACTION),
    Route("GET", f"{SEC}/api/rolesmapping", security.list_mappings, sec.ROLESMAPPING_ACTION),
    Route("GET", f"{SEC}/api/rolesmapping/{{role}}", security.get_mapping, sec.ROLESMAPPING_ACTION),
    Route("PUT", f"{SEC}/api/rolesmapping/{{role}}", security.put_mapping, sec.ROLESMAPPING_ACTION),
    Route("DELETE", f"{SEC}/api/rolesmapping/{{role}}", security.delete_mapping, sec.ROLESMAPPING_ACTION),
    Route("PATCH", f"{SEC}/api/rolesmapping", security.patch_mappings, sec.ROLESMAPPING_ACTION),
    Route("PATCH", f"{SEC}/api/rolesmapping/{{role}}", security.patch_mapping, sec.ROLESMAPPING_ACTION),
)
# The Open Distro prefix OpenSearch still serves every security route under (ML Commons' test harness uses it).
LEGACY_SEC = "/_opendistro/_security"
LEGACY_SECURITY_ROUTES: tuple[Route, ...] = tuple(
    Route(r.method, LEGACY_SEC + r.path.removeprefix(SEC), security.deprecated(r.handler), r.action)
    for r in SECURITY_ROUTES
)

PROFILE_A = f"{A}/profile/nodes"
STATS_A = f"{A}/stats/nodes"
STATS_ROUTES: tuple[Route, ...] = (
    Route("GET", f"{ML}/profile", ml_stats.profile, PROFILE_A),
    Route("GET", f"{ML}/profile/models", ml_stats.profile, PROFILE_A),
    Route("GET", f"{ML}/profile/models/{{model_id}}", ml_stats.profile_models, PROFILE_A),
    Route("GET", f"{ML}/profile/tasks", ml_stats.profile_tasks, PROFILE_A),
    Route("GET", f"{ML}/profile/tasks/{{task_id}}", ml_stats.profile_tasks, PROFILE_A),
    Route("GET", f"{ML}/stats", ml_stats.stats, STATS_A),
    Route("GET", f"{ML}/stats/{{stat}}", ml_stats.stats, STATS_A),
    Route("GET", f"{ML}/{{node_id}}/stats", ml_stats.stats, STATS_A),
    Route("GET", f"{ML}/{{node_id}}/stats/{{stat}}", ml_stats.stats, STATS_A),
)

MLGATE = "/_plugins/_mlgate"
MLGATE_A = "cluster:admin/mlgate"
MLGATE_ROUTES: tuple[Route, ...] = (
    Route("POST", f"{MLGATE}/connectors/_render", mlgate.render_inline_connector, f"{MLGATE_A}/render"),
    Route(
        "POST", f"{MLGATE}/connectors/{{connector_id}}/_render", mlgate.render_connector, f"{MLGATE_A}/render"
    ),
    Route("POST", f"{MLGATE}/models/{{model_id}}/_render", mlgate.render_model, f"{MLGATE_A}/render"),
    Route("POST", f"{MLGATE}/egress/_explain", mlgate.explain_egress, f"{MLGATE_A}/egress/explain"),
    # Any authenticated user may read the API description, as the banner at `GET /`.
    Route("GET", f"{MLGATE}/openapi.json", mlgate.openapi, "cluster:monitor/main"),
)

ROUTES: tuple[Route, ...] = (
    Route("GET", "/", cluster.root, "cluster:monitor/main"),
    Route("HEAD", "/", cluster.root, "cluster:monitor/main"),
    Route("GET", "/_cat/nodes", nodes.cat_nodes, "cluster:monitor/nodes/info"),
    Route("GET", "/_nodes", nodes.nodes_info, "cluster:monitor/nodes/info"),
    Route("POST", "/_plugins/_mlgate/_internal/models/{model_id}/_predict", nodes.internal_predict, INTERNAL),
    Route("GET", "/_cluster/health", cluster.health, "cluster:monitor/health"),
    Route("GET", "/_cluster/settings", cluster.get_settings, "cluster:monitor/settings"),
    Route("PUT", "/_cluster/settings", cluster.put_settings, "cluster:admin/settings/update"),
    Route(
        "POST", f"{ML}/model_groups/_register", resources.register_model_group, f"{A}/register_model_group"
    ),
    Route("GET", f"{ML}/model_groups/_search", resources.search_model_groups, f"{A}/model_groups/search"),
    Route("POST", f"{ML}/model_groups/_search", resources.search_model_groups, f"{A}/model_groups/search"),
    Route("GET", f"{ML}/model_groups/{{model_group_id}}", resources.get_model_group, f"{A}/model_groups/get"),
    Route(
        "PUT",
        f"{ML}/model_groups/{{model_group_id}}",
        resources.update_model_group,
        f"{A}/update_model_group",
    ),
    Route(
        "DELETE",
        f"{ML}/model_groups/{{model_group_id}}",
        resources.delete_model_group,
        f"{A}/delete_model_group",
    ),
    Route("POST", f"{ML}/connectors/_create", resources.create_connector, f"{A}/create_connector"),
    Route("GET", f"{ML}/connectors/_search", resources.search_connectors, f"{A}/connectors/search"),
    Route("POST", f"{ML}/connectors/_search", resources.search_connectors, f"{A}/connectors/search"),
    Route("GET", f"{ML}/connectors/{{connector_id}}", resources.get_connector, f"{A}/connectors/get"),
    Route("PUT", f"{ML}/connectors/{{connector_id}}", resources.update_connector, f"{A}/connectors/update"),
    Route(
        "DELETE", f"{ML}/connectors/{{connector_id}}", resources.delete_connector, f"{A}/connectors/delete"
    ),
    Route("POST", f"{ML}/models/_register", resources.register_model, f"{A}/register_model"),
    Route("POST", f"{ML}/models/_upload", resources.register_model, f"{A}/register_model"),
    Route("GET", f"{ML}/models/_search", resources.search_models, f"{A}/models/search"),
    Route("POST", f"{ML}/models/_search", resources.search_models, f"{A}/models/search"),
    Route("POST", f"{ML}/models/_undeploy", resources.undeploy_models, f"{A}/undeploy_model"),
    Route("POST", f"{ML}/models/_unload", resources.undeploy_models, f"{A}/undeploy_model"),
    Route("GET", f"{ML}/models/{{model_id}}", resources.get_model, f"{A}/models/get"),
    Route("PUT", f"{ML}/models/{{model_id}}", resources.update_model, f"{A}/models/update"),
    Route("DELETE", f"{ML}/models/{{model_id}}", resources.delete_model, f"{A}/models/delete"),
    Route("POST", f"{ML}/models/{{model_id}}/_deploy", resources.deploy_model, f"{A}/deploy_model"),
    Route("POST", f"{ML}/models/{{model_id}}/_load", resources.deploy_model, f"{A}/deploy_model"),
    Route("POST", f"{ML}/models/{{model_id}}/_undeploy", resources.undeploy_model, f"{A}/undeploy_model"),
    Route("POST", f"{ML}/models/{{model_id}}/_unload", resources.undeploy_model, f"{A}/undeploy_model"),
    Route("POST", f"{ML}/models/{{model_id}}/_predict", resources.predict, f"{A}/predict"),
    Route("POST", f"{ML}/_predict/{{algorithm}}/{{model_id}}", resources.predict_algorithm, f"{A}/predict"),
    Route("POST", f"{ML}/controllers/{{model_id}}", controllers.create_controller, f"{A}/controllers/create"),
    Route("PUT", f"{ML}/controllers/{{model_id}}", controllers.update_controller, f"{A}/controllers/update"),
    Route("GET", f"{ML}/controllers/{{model_id}}", controllers.get_controller, f"{A}/controllers/get"),
    Route(
        "DELETE", f"{ML}/controllers/{{model_id}}", controllers.delete_controller, f"{A}/controllers/delete"
    ),
    Route("GET", f"{ML}/tasks/_search", resources.search_tasks, f"{A}/tasks/search"),
    Route("POST", f"{ML}/tasks/_search", resources.search_tasks, f"{A}/tasks/search"),
    Route("GET", f"{ML}/tasks/{{task_id}}", resources.get_task, f"{A}/tasks/get"),
    Route("DELETE", f"{ML}/tasks/{{task_id}}", resources.delete_task, f"{A}/tasks/delete"),
    *SECURITY_ROUTES,
    *LEGACY_SECURITY_ROUTES,
    *MLGATE_ROUTES,
    *STATS_ROUTES,
    Route("POST", f"{ML}/models/{{model_id}}/_batch_predict", batch.batch_predict, f"{A}/predict"),
    Route("POST", f"{ML}/tasks/{{task_id}}/_cancel", batch.cancel_task, f"{A}/tasks/cancel"),
    Route("GET", "/_plugins/_mlgate/_internal/profile", ml_stats.internal_profile, INTERNAL),
    Route("GET", "/_plugins/_mlgate/_internal/stats", ml_stats.internal_stats, INTERNAL),
)


@dataclass
class _Node:
    """One segment position of the route trie: literal children, the parameter child, routes ending here."""

    literal: dict[str, _Node]
    param: _Node | None = None
    # (rank, route, (segment index, parameter name) pairs); rank = (parameter count, table order).
    ends: list[tuple[tuple[int, int], Route, tuple[tuple[int, str], ...]]] | None = None


class Router:
    """Matches a path to a route; literal segments win over parameters (``_search`` over ``{id}``).

    Precompiled: a dict answers parameterless paths at once; otherwise a trie walk finds every route the
    path fits, and the one with the fewest parameters (then the first in the table) that takes the
    method wins. No per-request closures or regexes.
    """

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._root = _Node({})
        # Parameterless paths: path → method → route (first in the table wins).
        self._literal: dict[str, dict[str, Route]] = {}
        for order, route in enumerate(routes):
            segments = tuple(route.path.strip("/").split("/")) if route.path != "/" else ()
            names = tuple((i, seg[1:-1]) for i, seg in enumerate(segments) if seg.startswith("{"))
            if not names:
                self._literal.setdefault("/".join(segments), {}).setdefault(route.method, route)
            node = self._root
            for seg in segments:
                if seg.startswith("{"):
                    node.param = node.param or _Node({})
                    node = node.param
                else:
                    node = node.literal.setdefault(seg, _Node({}))
            if node.ends is None:
                node.ends = []
            node.ends.append(((len(names), order), route, names))
            node.ends.sort(key=lambda end: end[0])

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
        """(route, path params, allowed methods when only the method is wrong)."""
        parts = path.strip("/").split("/") if path not in ("", "/") else []
        if "" in parts:
            parts = [p for p in parts if p]
        literal = self._literal.get("/".join(parts))
        if literal is not None:
            route = literal.get(method)
            if route is not None:  # no parameters: nothing can rank before it
                return route, {}, []
        found: list[tuple[tuple[int, int], Route, tuple[tuple[int, str], ...]]] = []
        _collect(self._root, parts, 0, found)
        if len(found) > 1:
            found.sort(key=lambda end: end[0])
        allowed: list[str] = []
        for _, route, names in found:
            if route.method == method:
                return route, {name: parts[i] for i, name in names}, []
            if route.method not in allowed:
                allowed.append(route.method)
        return None, {}, allowed


def _collect(
    node: _Node,
    parts: list[str],
    index: int,
    found: list[tuple[tuple[int, int], Route, tuple[tuple[int, str], ...]]],
) -> None:
    """Every route ending that ``parts[index:]`` reaches from ``node`` (literal and parameter branches)."""
    if index == len(parts):
        if node.ends:
            found.extend(node.ends)
        return
    child = node.literal.get(parts[index])
    if child is not None:
        _collect(child, parts, index + 1, found)
    if node.param is not None:
        _collect(node.param, parts, index + 1, found)
