"""A CRM on a read-only connection, as on a streaming replica: reads work, writes are refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import crmkit
from crmkit.errors import StoreError
from crmkit_postgres.testing import with_schema


def test_a_read_only_connection_reads_and_refuses_writes_cleanly(
    postgres_url: str, new_schema: Callable[[], str]
) -> None:
    url = with_schema(postgres_url, new_schema())
    with crmkit.open(url) as primary:  # creates and migrates the schema
        primary.contacts.add(crmkit.Company(name="Muster GmbH", emails=["info@muster.de"]))
    # A hot standby refuses every write; default_transaction_read_only does the same here.
    replica_url = url + "&options=-c%20default_transaction_read_only%3Don"
    with crmkit.open(replica_url) as replica:
        assert [c.display_name for c in replica.search("Muster")] == ["Muster GmbH"]
        assert replica.lookup_phone("+49 30 1234567") == []
        with pytest.raises(StoreError) as caught:
            replica.contacts.add(crmkit.Company(name="Beispiel AG"))
        assert caught.value.code == "store.read_only"
        assert "read-only" in str(caught.value) and "127.0.0.1" in str(caught.value)
        assert [c.display_name for c in replica.contacts.all()] == ["Muster GmbH"]
