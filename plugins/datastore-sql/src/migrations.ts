/**
 * The schema, versioned. Each migration is a named step recorded in the
 * `signet_migrations` table (knex's migrator, which also takes a lock so
 * several servers starting together migrate once). Configure runs every
 * missing step unless `disable_migration` is set; then the schema must
 * already be current.
 *
 * Portability notes: SPIFFE IDs and trust domains are ASCII (go-spiffe's
 * character set), so on MySQL they are ascii_bin columns (short enough to
 * index whole); every other text is utf8mb4_bin (MySQL's default collations
 * compare case-insensitively, which would merge distinct selectors), and
 * long text columns get prefix indexes there.
 */
import type { Knex } from "knex";
import type { Dialect } from "./connection.js";
import { DataStoreError } from "./errors.js";

export const migrationsTable = "signet_migrations";

interface Migration {
  readonly name: string;
  up(knex: Knex, dialect: Dialect): Promise<void>;
}

const migrations: readonly Migration[] = [{ name: "0001_initial", up: initialSchema }];

export const schemaVersion = migrations[migrations.length - 1]!.name;

export async function migrate(knex: Knex, dialect: Dialect, disabled: boolean): Promise<void> {
  const source = {
    getMigrations: async () => migrations.map((m) => m.name),
    getMigrationName: (name: string) => name,
    getMigration: async (name: string) => {
      const m = migrations.find((x) => x.name === name)!;
      return { up: (k: Knex) => m.up(k, dialect), down: async () => {} };
    },
  };
  const options = { migrationSource: source, tableName: migrationsTable };
  if (!disabled) {
    await knex.migrate.latest(options);
    return;
  }
  const exists = await knex.schema.hasTable(migrationsTable);
  const current = exists ? await knex.migrate.currentVersion(options) : "none";
  if (current !== schemaVersion) {
    throw new DataStoreError(
      "failed-precondition",
      `disable_migration is set but the database schema is at ${JSON.stringify(current)}, not ${JSON.stringify(schemaVersion)}; run once without disable_migration to upgrade it`,
    );
  }
}

/** Column and index helpers that hide the engines' differences. */
function columns(knex: Knex, dialect: Dialect) {
  const mysql = dialect.type === "mysql";
  return {
    /** An ASCII identifier (SPIFFE ID, trust domain, entry id), indexable whole. */
    ascii(t: Knex.CreateTableBuilder, name: string, length: number) {
      return mysql ? t.specificType(name, `varchar(${length}) character set ascii collate ascii_bin`) : t.string(name, length);
    },
    blob(t: Knex.CreateTableBuilder, name: string) {
      return t.specificType(name, mysql ? "longblob" : dialect.type === "postgres" ? "bytea" : "blob");
    },
    bool(t: Knex.CreateTableBuilder, name: string) {
      return t.boolean(name).notNullable().defaultTo(false);
    },
    table(t: Knex.CreateTableBuilder) {
      if (mysql) {
        t.engine("InnoDB");
        t.charset("utf8mb4");
        t.collate("utf8mb4_bin");
      }
    },
    /** An index over columns, some of which are long text (prefix-indexed on MySQL). */
    async index(table: string, name: string, cols: ReadonlyArray<string | [string, number]>) {
      const list = cols
        .map((c) => (typeof c === "string" ? knex.raw("??", [c]).toQuery() : mysql ? `${knex.raw("??", [c[0]]).toQuery()}(${c[1]})` : knex.raw("??", [c[0]]).toQuery()))
        .join(", ");
      await knex.raw(`CREATE INDEX ${knex.raw("??", [name]).toQuery()} ON ${knex.raw("??", [table]).toQuery()} (${list})`);
    },
  };
}

async function initialSchema(knex: Knex, dialect: Dialect): Promise<void> {
  const c = columns(knex, dialect);
  await knex.schema.createTable("bundles", (t) => {
    c.table(t);
    c.ascii(t, "trust_domain", 255).primary();
    c.blob(t, "data").notNullable();
    t.bigInteger("created_at").notNullable().defaultTo(0);
    t.bigInteger("updated_at").notNullable().defaultTo(0);
  });
  await knex.schema.createTable("registered_entries", (t) => {
    c.table(t);
    c.ascii(t, "id", 255).primary();
    c.ascii(t, "spiffe_id", 2048).notNullable().index("idx_entries_spiffe_id");
    c.ascii(t, "parent_id", 2048).notNullable().index("idx_entries_parent_id");
    t.integer("x509_svid_ttl").notNullable().defaultTo(0);
    t.integer("jwt_svid_ttl").notNullable().defaultTo(0);
    c.bool(t, "admin");
    c.bool(t, "downstream").index("idx_entries_downstream");
    c.bool(t, "store_svid");
    t.bigInteger("expires_at").notNullable().defaultTo(0).index("idx_entries_expires_at");
    t.text("dns_names").notNullable();
    t.bigInteger("revision_number").notNullable().defaultTo(0);
    t.text("hint").notNullable();
    t.bigInteger("created_at").notNullable().defaultTo(0);
    t.text("additional_attributes").nullable();
    /** sha256 of spiffe_id, parent_id and the sorted selector set: finds "similar" entries. */
    c.ascii(t, "identity_hash", 64).notNullable().index("idx_entries_identity_hash");
  });
  await c.index("registered_entries", "idx_entries_hint", [["hint", 255]]);
  await knex.schema.createTable("entry_selectors", (t) => {
    c.table(t);
    c.ascii(t, "entry_id", 255).notNullable().references("id").inTable("registered_entries").onDelete("CASCADE");
    t.integer("seq").notNullable();
    t.string("type", 255).notNullable();
    t.text("value").notNullable();
    t.primary(["entry_id", "seq"]);
  });
  await c.index("entry_selectors", "idx_entry_selectors_type_value", ["type", ["value", 255]]);
  await knex.schema.createTable("entry_federates_with", (t) => {
    c.table(t);
    c.ascii(t, "entry_id", 255).notNullable().references("id").inTable("registered_entries").onDelete("CASCADE");
    c.ascii(t, "trust_domain", 255).notNullable().references("trust_domain").inTable("bundles").onDelete("RESTRICT");
    t.primary(["entry_id", "trust_domain"]);
    t.index(["trust_domain"], "idx_entry_federates_with_td");
  });
  await knex.schema.createTable("attested_nodes", (t) => {
    c.table(t);
    c.ascii(t, "spiffe_id", 2048).primary();
    t.string("data_type", 255).notNullable().index("idx_nodes_data_type");
    t.string("serial_number", 255).notNullable();
    t.bigInteger("expires_at").notNullable().defaultTo(0).index("idx_nodes_expires_at");
    t.string("new_serial_number", 255).notNullable();
    t.bigInteger("new_expires_at").notNullable().defaultTo(0);
    c.bool(t, "can_reattest");
    t.string("agent_version", 255).notNullable();
  });
  await knex.schema.createTable("node_selectors", (t) => {
    c.table(t);
    c.ascii(t, "spiffe_id", 2048).notNullable();
    t.integer("seq").notNullable();
    t.string("type", 255).notNullable();
    t.text("value").notNullable();
    t.primary(["spiffe_id", "seq"]);
  });
  await c.index("node_selectors", "idx_node_selectors_type_value", ["type", ["value", 255]]);
  await knex.schema.createTable("federation_relationships", (t) => {
    c.table(t);
    c.ascii(t, "trust_domain", 255).primary();
    t.text("bundle_endpoint_url").notNullable();
    t.string("bundle_endpoint_profile", 32).notNullable();
    c.ascii(t, "endpoint_spiffe_id", 2048).notNullable();
  });
  await knex.schema.createTable("join_tokens", (t) => {
    c.table(t);
    t.string("token", 255).primary();
    t.bigInteger("expires_at").notNullable().index("idx_join_tokens_expires_at");
  });
  await knex.schema.createTable("ca_journals", (t) => {
    c.table(t);
    t.bigIncrements("id").primary();
    t.string("active_x509_authority_id", 255).notNullable().index("idx_ca_journals_authority");
    c.blob(t, "data").notNullable();
    t.bigInteger("expires_at").notNullable().defaultTo(0).index("idx_ca_journals_expires_at");
  });
  await knex.schema.createTable("events", (t) => {
    c.table(t);
    // One database-wide counter (SQLite AUTOINCREMENT never reuses an id, even after pruning).
    t.bigIncrements("event_id").primary();
    t.smallint("kind").notNullable();
    t.smallint("op").notNullable();
    t.text("object_key").notNullable();
    t.bigInteger("created_at_ms").notNullable().index("idx_events_created_at");
  });
  await knex.schema.createTable("feed_state", (t) => {
    c.table(t);
    t.integer("id").primary();
    t.bigInteger("pruned_through").notNullable().defaultTo(0);
  });
  await knex("feed_state").insert({ id: 1, pruned_through: 0 });
}
