-- API keys, stored as SHA-256 hashes: a leaked table does not leak usable keys.
CREATE TABLE api_keys (
    key_hash   text PRIMARY KEY,
    name       text        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('operator', 'unit', 'supervisor', 'system', 'viewer')),
    unit       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CHECK (role <> 'unit' OR unit IS NOT NULL)
);
