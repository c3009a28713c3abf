"""School settings: defaults, validation with named fields and remedies, JSON round trip."""

from __future__ import annotations

import json

import pytest

from shared.domain.matching import DirectoryProperty, MisField
from shared.domain.settings import (
    Privacy,
    SchoolSettings,
    SettingsError,
    Target,
)
from shared.domain.snapshot import GroupKind


def test_a_new_school_gets_every_kind_private_groups_and_username_matching():
    settings = SchoolSettings.from_dict({"school_id": "org-1", "dfe_number": "4001"})

    assert settings.enabled_kinds == frozenset(GroupKind)
    assert settings.target is Target.GROUPS
    assert settings.default_privacy is Privacy.PRIVATE
    assert settings.matching.mis_field is MisField.USERNAME
    assert settings.matching.directory_property is DirectoryProperty.UPN
    assert settings.enabled and not settings.preview_only


def test_name_identifier_defaults_to_the_dfe_number():
    settings = SchoolSettings.from_dict({"school_id": "org-1", "dfe_number": "4001"})

    assert settings.name_identifier == "4001"


def test_an_explicit_name_identifier_wins_over_the_dfe_number():
    settings = SchoolSettings.from_dict(
        {"school_id": "org-1", "dfe_number": "4001", "name_identifier": "OAK"}
    )

    assert settings.name_identifier == "OAK"


def test_settings_survive_a_round_trip_through_json():
    original = SchoolSettings.from_dict(
        {
            "school_id": "org-1",
            "dfe_number": "4001",
            "enabled_kinds": ["teaching"],
            "admin_owners": ["IT.Admin@oakfield.example.org"],
            "target": "classes",
            "mis_vendor": "SEEMiS",
            "matching": {
                "mis_field": "email",
                "directory_property": "mail",
                "domain_suffix": "@oakfield.example.org",
            },
            "safety": {"max_student_loss": 0.1, "max_group_loss": 0.3, "max_member_loss": 1},
            "preview_only": True,
            "registration_pattern": "^Reg",
            "default_privacy": "Public",
            "enabled": False,
        }
    )

    restored = SchoolSettings.from_dict(json.loads(json.dumps(original.to_dict())))

    assert restored == original
    assert restored.mis_vendor == "seemis"
    assert restored.admin_owners == ("it.admin@oakfield.example.org",)
    assert restored.matching.domain_suffix == "oakfield.example.org"


def test_a_misspelt_setting_is_an_error_naming_it():
    with pytest.raises(SettingsError) as caught:
        SchoolSettings.from_dict({"school_id": "org-1", "admin_owner": ["a@b.org"]})

    assert caught.value.field_name == "admin_owner"
    assert "spelling" in str(caught.value)


def test_a_misspelt_nested_setting_is_an_error_naming_it():
    with pytest.raises(SettingsError) as caught:
        SchoolSettings.from_dict({"school_id": "org-1", "safety": {"max_students_loss": 0.1}})

    assert caught.value.field_name == "safety.max_students_loss"


def test_a_missing_school_id_is_an_error():
    with pytest.raises(SettingsError) as caught:
        SchoolSettings.from_dict({"dfe_number": "4001"})

    assert caught.value.field_name == "school_id"


@pytest.mark.parametrize(
    ("data", "field_name"),
    [
        ({"enabled_kinds": ["house"]}, "enabled_kinds"),
        ({"admin_owners": ["not an address"]}, "admin_owners"),
        ({"target": "teams"}, "target"),
        ({"matching": {"mis_field": "nickname"}}, "matching.mis_field"),
        ({"matching": {"directory_property": "displayName"}}, "matching.directory_property"),
        (
            {"matching": {"directory_property": "employeeId", "domain_suffix": "a.org"}},
            "matching.domain_suffix",
        ),
        ({"safety": {"max_member_loss": 1.5}}, "safety.max_member_loss"),
        ({"safety": {"max_group_loss": "20%"}}, "safety.max_group_loss"),
        ({"safety": {"min_held_removals": 0}}, "safety.min_held_removals"),
        ({"preview_only": "yes"}, "preview_only"),
        ({"registration_pattern": "^(Reg"}, "registration_pattern"),
        ({"default_privacy": "Hidden"}, "default_privacy"),
    ],
)
def test_an_invalid_value_is_an_error_naming_the_field_and_a_remedy(data, field_name):
    with pytest.raises(SettingsError) as caught:
        SchoolSettings.from_dict({"school_id": "org-1", **data})

    assert caught.value.field_name == field_name
    assert caught.value.remedy


def test_scholarpack_schools_do_not_get_teaching_groups_and_seemis_staff_all_own():
    scholarpack = SchoolSettings.from_dict({"school_id": "a", "mis_vendor": "ScholarPack"})
    seemis = SchoolSettings.from_dict({"school_id": "b", "mis_vendor": "seemis"})

    assert not scholarpack.teaching_groups_supported
    assert not scholarpack.all_staff_own_teaching_groups
    assert seemis.teaching_groups_supported
    assert seemis.all_staff_own_teaching_groups
