"""
What the opportunities domain tells the domains above it, which keep copies of an
opportunity's links (a communication about an opportunity carries its customer and lead).
Sent inside the writing transaction: the receivers' writes commit or roll back with the change.
"""

from django.dispatch import Signal

# An opportunity's customer or lead changed. Arguments: ``opportunity`` (saved, its row locked
# by the sender), ``previous_customer_id``, ``previous_lead_id``, ``actor``.
opportunity_relinked = Signal()
