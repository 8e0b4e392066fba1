"""A client's settings: the arguments given, else the environment (STATEHOUSE_URL, STATEHOUSE_NAMESPACE,
STATEHOUSE_TIMEOUT, as the original SDK documents them, and STATEHOUSE_TOKEN, as statehousectl reads it), else the
defaults. Both clients resolve them here."""

from __future__ import annotations

import enum
import math
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union

from . import _wire as wire
from . import exceptions as errors
from ._operations import DaemonFeatures
from .ledger import LedgerMemory, LedgerPublicKey

DEFAULT_URL = "localhost:50051"
DEFAULT_NAMESPACE = "default"
DEFAULT_TIMEOUT = 60.0

_NAMESPACE = re.compile(r"[A-Za-z0-9._-]+")


class Unset(enum.Enum):
    """The type of :data:`UNSET`: an argument that was not given (None is a value for ``timeout``)."""

    UNSET = "unset"


UNSET = Unset.UNSET

TimeoutArgument = Union[float, None, Unset]


@dataclass(frozen=True)
class TLS:
    """TLS to a daemon started with ``--tls-cert``/``--tls-key``: the CA that signed its certificate (default: the
    system's roots) and, for a daemon with ``--tls-client-ca``, this client's certificate and key. All are PEM file
    paths.

    Example::

        Statehouse(url="db.internal:50051", tls=TLS(ca_file="ca.crt"),
                   metadata=[("authorization", "Bearer ...")])
    """

    ca_file: Optional[str] = None
    cert_file: Optional[str] = None
    key_file: Optional[str] = None

    def credentials(self) -> Any:
        """The gRPC channel credentials these files describe (raises InvalidArgumentError for a file that cannot be
        read, or a certificate without its key)."""
        import grpc

        if (self.cert_file is None) != (self.key_file is None):
            raise errors.InvalidArgumentError("TLS cert_file and key_file go together: give both or neither")

        def read(path: Optional[str], what: str) -> Optional[bytes]:
            if path is None:
                return None
            try:
                with open(path, "rb") as file:
                    return file.read()
            except OSError as error:
                raise errors.InvalidArgumentError(f"cannot read the TLS {what} {path!r}: {error.strerror}") from None

        return grpc.ssl_channel_credentials(
            root_certificates=read(self.ca_file, "CA file"),
            private_key=read(self.key_file, "key file"),
            certificate_chain=read(self.cert_file, "certificate file"),
        )


@dataclass(frozen=True)
class Settings:
    url: str
    namespace: str
    timeout: Optional[float]
    metadata: Optional[wire.CallMetadata]


def _variable(environ: Mapping[str, str], name: str) -> Optional[str]:
    """The variable's value without surrounding blanks; None when unset or blank."""
    value = environ.get(name, "").strip()
    return value or None


AUTHORIZATION = "authorization"


def _check_token(token: Any, source: str) -> str:
    """The token without surrounding blanks (a line read from a file ends with one); refuses anything that cannot
    be a token, so that a mistake fails before any call rather than as UNAUTHENTICATED."""
    if not isinstance(token, str):
        raise errors.InvalidArgumentError(f"{source} must be a str such as 'tok_….secret', not {type(token).__name__}")
    token = token.strip()
    if not token or any(not "!" <= char <= "~" for char in token):
        raise errors.InvalidArgumentError(
            f"{source} must be a token such as 'tok_….secret' (printable ASCII, no spaces), without 'Bearer '"
        )
    return token


def with_token(
    metadata: Optional[wire.CallMetadata], token: Optional[str], environ: Mapping[str, str]
) -> Optional[wire.CallMetadata]:
    """The call metadata with ``authorization: Bearer TOKEN`` added for ``token=`` (else $STATEHOUSE_TOKEN).

    An ``authorization`` entry in ``metadata=`` is the caller's own choice: with ``token=`` as well it is refused as
    ambiguous, and it wins over $STATEHOUSE_TOKEN (an explicit argument wins over the environment)."""
    has_authorization = any(name == AUTHORIZATION for name, _ in metadata or ())
    if token is not None:
        token = _check_token(token, "token")
        if has_authorization:
            raise errors.InvalidArgumentError(
                "give the token either as token= or as an 'authorization' entry of metadata=, not both"
            )
    elif not has_authorization:
        variable = _variable(environ, "STATEHOUSE_TOKEN")
        token = None if variable is None else _check_token(variable, "STATEHOUSE_TOKEN")
    if token is None:
        return metadata
    return (*(metadata or ()), (AUTHORIZATION, f"Bearer {token}"))


def resolve(
    url: Optional[str],
    namespace: Optional[str],
    timeout: TimeoutArgument,
    metadata: Any,
    environ: Optional[Mapping[str, str]] = None,
    token: Optional[str] = None,
) -> Settings:
    """The settings of a client: explicit arguments win over STATEHOUSE_URL, STATEHOUSE_NAMESPACE,
    STATEHOUSE_TIMEOUT (seconds) and STATEHOUSE_TOKEN, which win over ``localhost:50051``, ``"default"``, 60 s and no
    token.

    Raises:
        InvalidArgumentError: a bad argument, or a bad variable (the message names it).
    """
    environ = os.environ if environ is None else environ
    if url is None:
        url = _variable(environ, "STATEHOUSE_URL") or DEFAULT_URL
        if any(char.isspace() for char in url):
            raise errors.InvalidArgumentError(f"STATEHOUSE_URL must be an address such as host:port, not {url!r}")
    elif not isinstance(url, str) or not url:
        raise errors.InvalidArgumentError(f"url must be a non-empty str such as 'localhost:50051', not {url!r}")

    if namespace is None:
        namespace = _variable(environ, "STATEHOUSE_NAMESPACE") or DEFAULT_NAMESPACE
        if not _NAMESPACE.fullmatch(namespace):
            raise errors.InvalidArgumentError(
                f"STATEHOUSE_NAMESPACE may contain only letters, digits, '.', '_' and '-', not {namespace!r}"
            )
    elif not isinstance(namespace, str):
        raise errors.InvalidArgumentError(f"namespace must be a str, not {type(namespace).__name__}")

    if timeout is UNSET:
        text = _variable(environ, "STATEHOUSE_TIMEOUT")
        if text is None:
            timeout = DEFAULT_TIMEOUT
        else:
            try:
                timeout = float(text)
            except ValueError:
                timeout = math.nan
            if not (math.isfinite(timeout) and timeout > 0):
                raise errors.InvalidArgumentError(f"STATEHOUSE_TIMEOUT must be a number of seconds > 0, not {text!r}")
    elif timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (0 < timeout < math.inf):
            raise errors.InvalidArgumentError(f"timeout must be seconds > 0 or None, not {timeout!r}")
        timeout = float(timeout)

    call_metadata = with_token(wire.call_metadata(metadata), token, environ)
    return Settings(url=url, namespace=namespace, timeout=timeout, metadata=call_metadata)


class ClientBase:
    """What both clients keep of their settings: the daemon's address, the default namespace, the timeout of each
    call, the call metadata and how long a commit with a lost reply is retried; and what they learned of the daemon
    (whether it takes commits of transactions begun by the client)."""

    _url: str
    _namespace: str
    _timeout: Optional[float]
    _metadata: Optional[wire.CallMetadata]
    _commit_retry_timeout: float
    _daemon: DaemonFeatures

    def _configure(
        self,
        url: Optional[str],
        namespace: Optional[str],
        timeout: TimeoutArgument,
        metadata: Any,
        commit_retry_timeout: float,
        token: Optional[str] = None,
    ) -> None:
        settings = resolve(url, namespace, timeout, metadata, token=token)
        self._url = settings.url
        self._namespace = settings.namespace
        self._timeout = settings.timeout
        self._metadata = settings.metadata
        self._commit_retry_timeout = commit_retry_timeout
        self._daemon = DaemonFeatures()
        # The trusted ledger key and the newest tree head verified per namespace (verified reads).
        self._ledger = LedgerMemory()

    def trust_ledger_key(self, key: Union[LedgerPublicKey, str, bytes]) -> None:
        """Trusts ``key`` (a :class:`~statehouse.ledger.LedgerPublicKey`, or its PEM text) for verified reads.

        Without a trusted key, the first verified read trusts the key the daemon reports and keeps it (trust on
        first use). Pin the key from a source you trust (``statehousectl ledger-key`` saved at setup), not from the
        daemon you are checking.
        """
        self._ledger.trust(key if isinstance(key, LedgerPublicKey) else LedgerPublicKey.from_pem(key))

    @property
    def url(self) -> str:
        """The daemon's address."""
        return self._url

    @property
    def namespace(self) -> str:
        """The default namespace of this client."""
        return self._namespace

    def _ns(self, namespace: Optional[str]) -> str:
        return self._namespace if namespace is None else namespace
