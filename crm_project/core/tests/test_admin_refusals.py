"""How a service's refusal of an admin save lands on the form (ServiceModelAdmin)."""

from django.core.exceptions import PermissionDenied, ValidationError

from crm_project.core.admin import refusal_errors
from crm_project.core.exceptions import Conflict

FIELDS = {"customer": None, "email": None}


def test_an_api_field_name_lands_on_the_admin_field():
    assert refusal_errors(ValidationError({"customer_id": "No such customer."}), FIELDS) == [
        ("customer", ["No such customer."])
    ]


def test_a_field_the_form_has_keeps_its_name():
    assert refusal_errors(ValidationError({"email": "Taken."}), FIELDS) == [("email", ["Taken."])]


def test_a_field_the_form_lacks_becomes_a_form_error_naming_it():
    assert refusal_errors(ValidationError({"stage": "Use close."}), FIELDS) == [(None, ["stage: Use close."])]


def test_refusals_without_a_field_are_form_errors():
    assert refusal_errors(PermissionDenied("Reps only themselves (owner_id)."), FIELDS) == [
        (None, ["Reps only themselves (owner_id)."])
    ]
    assert refusal_errors(Conflict("Closed already."), FIELDS) == [(None, ["Closed already."])]
    assert refusal_errors(ValidationError("Plain."), FIELDS) == [(None, ["Plain."])]
