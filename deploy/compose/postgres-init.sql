-- One database per service (ARCHITECTURE.md: "each service has its own PostgreSQL database").
-- Run once by the postgres image, as the `mla` superuser, when the data volume is empty.
-- `python -m devstack migrate` creates any database still missing, so this is a convenience
-- for the first start, not the only place the databases come from.
CREATE DATABASE mla_intake OWNER mla;
CREATE DATABASE mla_routing OWNER mla;
CREATE DATABASE mla_tracking OWNER mla;
CREATE DATABASE mla_notify OWNER mla;
-- The key vault of the personal data, shared by intake and tracking (shared/personal_data/).
CREATE DATABASE mla_vault OWNER mla;
