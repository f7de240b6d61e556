"""The store contract suite: every backend must pass it unchanged.

Subclass :class:`StoreContract` in your backend's tests and provide a
``store_factory`` fixture that returns a callable making a fresh, empty
store (the stateful test needs several)::

    import pytest
    from crmkit.testing import StoreContract
    from mybackend import MyStore

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store_factory(self, tmp_path):
            counter = iter(range(10**9))
            return lambda: MyStore(tmp_path / f"db{next(counter)}")

The suite needs ``pytest`` and ``hypothesis`` (the ``crmkit[testing]`` extra).
"""

from crmkit.testing.contract import StoreContract, sample_company, sample_person

__all__ = ["StoreContract", "sample_company", "sample_person"]
