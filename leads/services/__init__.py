"""
Writes of leads. The API, the admin, the commands and other domains' services all come through
these functions (one module per concern, all importable from here). Invariants guarded:

- ``lead_number`` is ``LEAD-YYYYMMDD-XXXX`` from the shared daily counter, taken inside the
  creating transaction: never duplicated, contiguous, also under concurrent creates;
- ``email`` is unique across all leads, compared case-insensitively: a friendly 400 on
  ``email`` here; the ``lead_email_ci_unique`` index is the last line against races;
- a new lead is always ``new``; an update may set only new, contacted or lost (400 on
  ``status``): qualified comes only from ``lead_qualify``, converted only from ``lead_convert``;
- a converted lead is final: every later change is a 409. A lost lead cannot be qualified or
  converted (409) but may be reopened by an update;
- the qualification flag follows the status (constraint ``lead_qualification_matches_status``):
  qualifying sets status qualified and ``qualified_at``; disqualifying, or moving a lead back to
  new or contacted, clears both; a lead lost or converted keeps what it had;
- converting links an existing customer, or creates one from the lead's company and contact
  data in the same transaction (the lead's assignee becomes its account manager);
- a lead is assigned only to an active user with a CRM role (400), and a sales rep assigns
  only to themselves or to nobody (403 naming ``assigned_to_id``);
- only managers delete leads (403), and never one that communications refer to (409);
- notes given with qualify, convert or mark-lost are appended to the lead's notes, dated and
  signed; they never replace what is there;
- every write advances ``updated_at`` (the ETag), and update/transition services check the
  client's ``If-Match`` under the row lock;
- the duplicate-matching keys (``match_*``) follow the company name, e-mail and phone on every
  write, the bulk paths included (``crm_project/core/matching.py``);
- ``last_contacted_at`` is the latest communication about the lead: moved forward as
  communications are logged, recomputed when one is moved or deleted (``contact.py``);
- the bulk paths keep every rule above: ``lead_bulk_create`` (imports) checks each row as
  ``lead_create`` does, emails also against the other rows of the same call, and numbers the
  leads from one block of today's sequence; ``lead_reassign_bulk`` (managers only) moves a
  rep's open leads to another active CRM user.

Modules: ``rules.py`` (checks several writes share), ``records.py`` (create, update, delete),
``transitions.py`` (qualify, convert, lost, contacted, assign), ``bulk.py`` (imports,
reassignment), ``contact.py`` (bookkeeping of contacts, called by the communications domain).
"""

from .bulk import LeadBulkCreateResult, lead_bulk_create, lead_import_start, lead_reassign_bulk, leads_to_reassign
from .contact import (
    lead_record_contact,
    lead_refresh_last_contacted,
    leads_relink_converted_customer,
    leads_relink_converted_customer_back,
)
from .records import lead_create, lead_delete, lead_update
from .rules import CREATE_FIELDS, REQUIRED_FIELDS
from .transitions import lead_assign, lead_convert, lead_mark_contacted, lead_mark_lost, lead_qualify

__all__ = [
    "CREATE_FIELDS",
    "REQUIRED_FIELDS",
    "LeadBulkCreateResult",
    "lead_assign",
    "lead_bulk_create",
    "lead_convert",
    "lead_create",
    "lead_delete",
    "lead_import_start",
    "lead_mark_contacted",
    "lead_mark_lost",
    "lead_qualify",
    "lead_reassign_bulk",
    "lead_record_contact",
    "lead_refresh_last_contacted",
    "lead_update",
    "leads_relink_converted_customer",
    "leads_relink_converted_customer_back",
    "leads_to_reassign",
]
