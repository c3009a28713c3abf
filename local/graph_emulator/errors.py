"""Every error body the emulator serves, in one place, worded as Graph words them.

A message marked "unobserved" has no captured Graph original; it keeps Graph's status and code
and says plainly what is wrong, so that clients match on status and code, never on its text.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any


class GraphError(Exception):
    """A Graph error response: raised anywhere below a route, rendered once by the app."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        inner: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.inner = inner

    def body(self, request_id: str) -> dict[str, Any]:
        inner = {
            "date": utc_now_text(),
            "request-id": request_id,
            "client-request-id": request_id,
        }
        if self.inner:
            inner = {**self.inner, **inner}
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        error["innerError"] = inner
        return {"error": error}


def utc_now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def new_request_id() -> str:
    return str(uuid.uuid4())


# --- authentication and routing -------------------------------------------------------------


def missing_token() -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")


def segment_not_found(segment: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def method_not_allowed() -> GraphError:
    return GraphError(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )


def unreadable_body() -> GraphError:
    return GraphError(
        400,
        "BadRequest",
        "Unable to read JSON request payload. Please ensure Content-Type header is set and "
        "payload is of valid JSON format.",
    )


# --- objects and properties -----------------------------------------------------------------


def not_found(object_id: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def invalid_value(prop: str, resource: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        f"Invalid value specified for property '{prop}' of resource '{resource}'.",
        details=[{"target": prop, "code": "InvalidValue"}],
    )


def required_property(prop: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        f"Property {prop} value is required but is empty or missing.",
        details=[{"target": prop, "code": "PropertyRequired"}],
    )


def conflict(prop: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        f"Another object with the same value for property {prop} already exists.",
        details=[{"target": prop, "code": "ObjectConflict"}],
    )


def unknown_property(prop: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        f"Property '{prop}' does not exist as a declared property or extension property.",
    )


def read_only_property(prop: str) -> GraphError:
    return GraphError(
        400, "Request_BadRequest", f"Property '{prop}' is read-only and cannot be set."
    )


# --- links (members and owners) -------------------------------------------------------------


def too_many_links() -> GraphError:
    return GraphError(
        400, "Request_BadRequest", "A resource cannot contain more than 20 link changes"
    )


def duplicate_link(relation: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        "One or more added object references already exist for the following modified "
        f"properties: '{relation}'.",
    )


def last_owner() -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        "The group must have at least one owner, hence this owner cannot be removed.",
    )


def link_quota(count: int, limit: int, relation: str) -> GraphError:
    return GraphError(
        403,
        "Directory_QuotaExceeded",
        f"Unable to perform operation as '{count}' would exceed the maximum quota count "
        f"'{limit}' for forward-link '{relation}'.",
    )


def referenced_object_missing() -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        "The source resource object or one of the objects being referenced do not exist.",
    )


# --- queries --------------------------------------------------------------------------------


def invalid_page_size(top: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.",
    )


def count_needs_eventual() -> GraphError:
    return GraphError(400, "Request_BadRequest", "$count is not currently supported.")


def unsupported_query() -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", "Unsupported Query.")


def too_many_or_clauses(count: int, limit: int) -> GraphError:
    return GraphError(
        400,
        "Request_UnsupportedQuery",
        "Too many child clauses specified in search filter expression containing 'OR' "
        f"operators: {count}. Max allowed: {limit}.",
    )


def filter_value_too_long(limit: int) -> GraphError:
    # unobserved
    return GraphError(
        400,
        "Request_UnsupportedQuery",
        f"Invalid filter clause: a value compared with 'eq' may be at most {limit} characters.",
    )


def invalid_filter(reason: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Invalid filter clause: {reason}")


def sync_state_not_found() -> GraphError:
    return GraphError(
        400,
        "syncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data must be "
        "synchronized again.",
    )


# --- Education ------------------------------------------------------------------------------


def not_an_education_tenant() -> GraphError:
    return GraphError(
        400,
        "Request_UnsupportedQuery",
        "Property 'extension_fe2174665583431c953114ff7268b7b3_Education_ObjectType' does not "
        "exist as a declared property or extension property.",
    )


def delegated_token_refused() -> GraphError:
    return GraphError(403, "AccessDenied", "Required scp claim values are not provided.")


# --- $batch ---------------------------------------------------------------------------------


def batch_too_large() -> GraphError:
    return GraphError(400, "BadRequest", "Number of requests inside batch exceeds the limit.")


def batch_malformed(reason: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Invalid batch payload format: {reason}")


def batch_duplicate_id(request_id: str) -> GraphError:
    # unobserved
    return GraphError(
        400, "BadRequest", f"Request id '{request_id}' is used more than once in this batch."
    )


def batch_missing_content_type(request_id: str) -> GraphError:
    return GraphError(
        400,
        "BadRequest",
        f"Write request id : {request_id} does not contain Content-Type header or body.",
    )


def batch_invalid_dependency(request_id: str) -> GraphError:
    # unobserved
    return GraphError(
        400,
        "BadRequest",
        f"Invalid dependency for request Id {request_id}: dependsOn must name an earlier request.",
    )


def batch_absolute_url() -> GraphError:
    # unobserved
    return GraphError(
        400,
        "BadRequest",
        "Batch request urls must be relative to this version root (/v1.0), e.g. /users.",
    )


def failed_dependency() -> GraphError:
    # unobserved
    return GraphError(
        424, "FailedDependency", "The request was not run because a request it depends on failed."
    )


# --- throttling and injected faults ---------------------------------------------------------


def throttled(retry_after: int, headers: dict[str, str]) -> GraphError:
    return GraphError(
        429,
        "TooManyRequests",
        "Please retry again later.",
        headers={"Retry-After": str(retry_after), **headers},
        inner={"code": "429", "message": "Please retry after", "status": "429"},
    )


def service_unavailable(retry_after: int) -> GraphError:
    return GraphError(
        503,
        "serviceNotAvailable",
        "Service unavailable",
        headers={"Retry-After": str(retry_after)},
    )


def gateway_timeout() -> GraphError:
    return GraphError(
        504,
        "UnknownError",
        "The server, while acting as a gateway or proxy, did not receive a timely response from "
        "the upstream server it needed to access in attempting to complete the request.",
    )
