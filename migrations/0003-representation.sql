-- Legal representation from registers, organisation grants that need several signatories,
-- and who delegated a sub-mandate.

-- One row per register fact "representative may represent represented". Rows are replaced
-- wholesale per (register, source) by an import, so a register's latest file is the truth.
CREATE TABLE register_entries (
  id uuid PRIMARY KEY,
  register text NOT NULL CHECK (register IN ('population', 'trustee', 'company')),
  source text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
  kind text NOT NULL CHECK (kind IN ('guardian', 'trustee', 'signatory')),
  representative_id uuid NOT NULL REFERENCES parties (id),
  represented_id uuid NOT NULL REFERENCES parties (id),
  scope text[] NOT NULL DEFAULT '{}',
  signing_rule text CHECK (signing_rule IN ('alone', 'jointly')),
  valid_from timestamptz,
  valid_to timestamptz,
  imported_at timestamptz NOT NULL,
  CHECK ((kind = 'signatory') = (signing_rule IS NOT NULL)),
  CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX register_entries_pair ON register_entries (represented_id, representative_id);
CREATE INDEX register_entries_representative ON register_entries (representative_id);
CREATE INDEX register_entries_source ON register_entries (register, source);

-- An organisation whose signatories sign jointly grants through all of them: the mandate stays
-- pending until every required signatory has approved.
CREATE TABLE mandate_approvals (
  mandate_id uuid NOT NULL REFERENCES mandates (id),
  signatory_id uuid NOT NULL REFERENCES parties (id),
  approved_at timestamptz,
  PRIMARY KEY (mandate_id, signatory_id)
);
CREATE INDEX mandate_approvals_signatory ON mandate_approvals (signatory_id, mandate_id);

CREATE INDEX mandates_created_by ON mandates (created_by);
