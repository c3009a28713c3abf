"""Education classes: a class is a group with the same id, teachers are owners, and a tenant
without Education or a delegated token is refused as Graph refuses them."""

from __future__ import annotations

from .helpers import V1, error_of, seed_users, state_group

EDUCATION_USER = "https://graph.microsoft.com/v1.0/education/users/{}"


def class_body(external_id: str, **extra) -> dict:
    return {
        "displayName": f"Class {external_id}",
        "mailNickname": f"class-{external_id}",
        "description": "Maths",
        "externalId": external_id,
        "externalName": f"Class {external_id}",
        "externalSource": "sis",
        **extra,
    }


def test_created_class_is_a_group_with_the_same_id(graph):
    response = graph.post(f"{V1}/education/classes", json=class_body("MIS-1"))

    assert response.status_code == 201
    class_id = response.json()["id"]
    group = graph.get(f"{V1}/groups/{class_id}").json()
    assert group["groupTypes"] == ["Unified"]
    assert state_group(graph, class_id)["isEducationClass"] is True
    assert state_group(graph, class_id)["externalId"] == "MIS-1"


def test_classes_are_found_by_external_id(graph):
    graph.post(f"{V1}/education/classes", json=class_body("MIS-1"))
    wanted = graph.post(f"{V1}/education/classes", json=class_body("MIS-2")).json()["id"]

    response = graph.get(f"{V1}/education/classes", params={"$filter": "externalId eq 'MIS-2'"})

    assert [c["id"] for c in response.json()["value"]] == [wanted]


def test_teacher_add_makes_an_owner_and_student_add_a_member(graph):
    teacher, student = seed_users(graph, 2)
    class_id = graph.post(f"{V1}/education/classes", json=class_body("MIS-3")).json()["id"]

    teacher_added = graph.post(
        f"{V1}/education/classes/{class_id}/teachers/$ref",
        json={"@odata.id": EDUCATION_USER.format(teacher)},
    )
    student_added = graph.post(
        f"{V1}/education/classes/{class_id}/members/$ref",
        json={"@odata.id": EDUCATION_USER.format(student)},
    )

    assert (teacher_added.status_code, student_added.status_code) == (204, 204)
    group = state_group(graph, class_id)
    assert (group["owners"], group["members"]) == ([teacher], [student])
    teachers = graph.get(f"{V1}/education/classes/{class_id}/teachers").json()["value"]
    assert [t["id"] for t in teachers] == [teacher]


def test_student_remove_and_duplicate_add_behave_like_the_group(graph):
    [student] = seed_users(graph, 1)
    class_id = graph.post(f"{V1}/education/classes", json=class_body("MIS-4")).json()["id"]
    ref = {"@odata.id": EDUCATION_USER.format(student)}
    graph.post(f"{V1}/education/classes/{class_id}/members/$ref", json=ref)

    duplicate = graph.post(f"{V1}/education/classes/{class_id}/members/$ref", json=ref)
    removed = graph.delete(f"{V1}/education/classes/{class_id}/members/{student}/$ref")

    assert error_of(duplicate)[0:2] == (400, "Request_BadRequest")
    assert removed.status_code == 204


def test_invalid_external_source_is_refused(graph):
    response = graph.post(
        f"{V1}/education/classes", json=class_body("MIS-5", externalSource="OneRoster")
    )

    assert error_of(response)[0:2] == (400, "Request_BadRequest")


def test_class_nickname_conflicts_with_a_group_nickname(graph):
    graph.post(f"{V1}/education/classes", json=class_body("MIS-6"))

    response = graph.post(f"{V1}/education/classes", json=class_body("MIS-6"))

    assert error_of(response)[2].startswith("Another object with the same value for property")


def test_delegated_token_cannot_create_a_class(graph):
    # header {"alg":"none"}, claims {"scp":"EduRoster.ReadWrite","tid":"t","appid":"a"}
    token = (
        "eyJhbGciOiJub25lIn0.eyJzY3AiOiJFZHVSb3N0ZXIuUmVhZFdyaXRlIiwidGlkIjoidCIsImFwcGlkIjoiYSJ9.x"
    )

    response = graph.post(
        f"{V1}/education/classes",
        json=class_body("MIS-7"),
        headers={"Authorization": f"Bearer {token}"},
    )

    assert error_of(response) == (
        403,
        "AccessDenied",
        "Required scp claim values are not provided.",
    )


def test_tenant_without_education_refuses_class_calls(graph):
    graph.post("/_emulator/config", json={"education": False})

    response = graph.get(f"{V1}/education/classes")

    assert error_of(response) == (
        400,
        "Request_UnsupportedQuery",
        "Property 'extension_fe2174665583431c953114ff7268b7b3_Education_ObjectType' does not "
        "exist as a declared property or extension property.",
    )
