"""API key commands: the audit trail of creation, rotation and revocation (the key table is written by
infra/adapters/keys.py once the event is recorded)."""

from __future__ import annotations

from domain import apikey, customer
from infra.ledger.kinds import API_KEY, CUSTOMER
from infra.ledger.unitofwork import UnitOfWork


def record_key_change(uow: UnitOfWork, command: apikey.KeyCommand) -> apikey.ApiKey:
    """Decide on the key's stream; a key for customers names only customers that exist (422 unknown_customer)."""
    if isinstance(command, apikey.CreateApiKey):
        for customer_id in command.customers or ():
            customer.ensure_exists(uow.get(CUSTOMER, customer_id), customer_id)
    state = uow.record(API_KEY, command.name, apikey.decide(command, uow.get(API_KEY, command.name)))
    assert state is not None
    return state
