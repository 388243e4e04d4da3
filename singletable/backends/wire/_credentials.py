"""Credentials: botocore's provider chain, read once, then the keys of each call.

Finding credentials is done by botocore's own chain (``botocore.session.Session.
get_credentials``): explicit keys, the environment, the shared config and
credentials files and their profiles, SSO, assume-role and web identity, the
container and instance metadata endpoints. It runs once, when the backend is made;
it is off the per-call path. Credentials that expire (assume-role, SSO, metadata)
come back as botocore's refreshable credentials, which renew themselves before
they expire: :meth:`CredentialSource.keys` asks them for their current keys on
every call (a clock comparison unless a refresh is due). The async backend calls
:meth:`CredentialSource.refresh_due` first and, when a refresh is due, runs it in a
worker thread, so that the refresh's network call never blocks the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from singletable.errors import from_dynamodb

__all__ = ["CredentialSource", "Keys"]


@dataclass(frozen=True, slots=True)
class Keys:
    """The keys one request is signed with."""

    access_key: str
    secret_key: str
    token: str | None = None


class CredentialSource:
    """The credentials requests are signed with.

    Args:
        credentials: botocore credentials (static or refreshable), or None when the
            chain found none (every call then fails as botocore's does,
            ``NoCredentialsError``).
    """

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials
        self._refreshable = credentials is not None and hasattr(credentials, "refresh_needed")
        self._static: Keys | None = None
        if credentials is not None and not self._refreshable:
            self._static = _keys(credentials.get_frozen_credentials())

    @classmethod
    def resolve(
        cls,
        session: Any,
        access_key: str | None = None,
        secret_key: str | None = None,
        token: str | None = None,
    ) -> CredentialSource:
        """Explicit keys if given, else what botocore's chain finds for ``session``."""
        if access_key is not None and secret_key is not None:
            return cls.static(Keys(access_key, secret_key, token))
        return cls(session.get_credentials())

    @classmethod
    def static(cls, keys: Keys) -> CredentialSource:
        """A source that always gives ``keys``."""
        source = cls(None)
        source._static = keys
        return source

    def keys(self) -> Keys:
        """The keys to sign with now (refreshing expiring credentials when due).

        Raises:
            singletable.errors.BackendError: ``NoCredentialsError``, none were found.
        """
        if self._static is not None:
            return self._static
        if self._credentials is None:
            # botocore's code and words for the same failure
            raise from_dynamodb("NoCredentialsError", "Unable to locate credentials")
        return _keys(self._credentials.get_frozen_credentials())

    def refresh_due(self) -> bool:
        """Whether :meth:`keys` would refresh (and so block on the network) now."""
        return self._refreshable and bool(self._credentials.refresh_needed())


def _keys(frozen: Any) -> Keys:
    return Keys(frozen.access_key, frozen.secret_key, frozen.token or None)
