"""Personal data sealed under a key per request, so that destroying the key erases it.

The persons concerned, the facts of the case and the other free text of a request's details
(`request_fields`) are stored sealed (AES-256-GCM) wherever they go: events, outbox, topic,
archive, read models. The texts of later steps (the reasons given for a withdrawal, a
decline or a manual routing, an office's execution details, a closure's grounds and answer
summary) are not: they are kept as written, and their inputs say so (`IN_THE_CLEAR`).
Each request has its own data key; the data keys are kept, wrapped under a master key, in
one place (the key vault). Destroying a request's data key makes every copy of its personal
data unreadable at once, while the bytes stored (and the hash chain over them) stay as they
were (`crypto-shredding`).

- `sealing`: `DataKey`, `SealedValue`, `seal` / `unseal` (one value under one key).
- `master_key`: the key-encryption key and the wrapping of data keys under it.
- `vault`: the `KeyVault` interface, its in-memory fake and its short-lived cache.
- `postgres_vault`: the vault in its own PostgreSQL database (`mla_vault`).
- `request_fields`: which fields of a request are personal, sealing and revealing them.
"""

from shared.personal_data.master_key import MasterKey, MasterKeyError
from shared.personal_data.notice import IN_THE_CLEAR
from shared.personal_data.request_fields import (
    ERASED,
    PersonalDataReader,
    is_sealed,
    reveal_details,
    seal_details,
)
from shared.personal_data.sealing import (
    ALGORITHM,
    DataKey,
    SealedValue,
    SealingError,
    seal,
    unseal,
)
from shared.personal_data.vault import CachedKeyVault, InMemoryKeyVault, KeyState, KeyVault

__all__ = [
    "ALGORITHM",
    "ERASED",
    "IN_THE_CLEAR",
    "CachedKeyVault",
    "DataKey",
    "InMemoryKeyVault",
    "KeyState",
    "KeyVault",
    "MasterKey",
    "MasterKeyError",
    "PersonalDataReader",
    "SealedValue",
    "SealingError",
    "is_sealed",
    "reveal_details",
    "seal",
    "seal_details",
    "unseal",
]
