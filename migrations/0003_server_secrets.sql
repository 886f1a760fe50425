-- mediaforge schema, version 3: secrets the orchestrator's replicas share, made once by whichever
-- starts first. The first: the key that signs the short-lived URLs a worker without shared storage
-- fetches its inputs from and uploads its outputs to.
CREATE TABLE server_secrets (
  name        text PRIMARY KEY,
  value       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
