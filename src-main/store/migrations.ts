// Numbered schema migrations for the run database. PRAGMA user_version holds the version the file is at;
// MIGRATIONS[i] takes it from version i to version i + 1. Append new migrations at the end, never edit one
// that has shipped: a user's database may be at any earlier version.
import type Database from 'better-sqlite3';

export interface Migration {
  /** The version the database is at after this migration. */
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'core tables: runs, tags, params, metrics, artifacts, checkpoints, log',
    // eslint-disable-next-line max-lines-per-function -- the first schema: one CREATE statement per table
    up(db) {
      db.exec(`
        CREATE TABLE runs (
          id          INTEGER PRIMARY KEY AUTOINCREMENT,
          name        TEXT    NOT NULL,
          status      TEXT    NOT NULL,
          created_at  INTEGER NOT NULL,
          started_at  INTEGER,
          finished_at INTEGER,
          config_text TEXT    NOT NULL,
          config_json TEXT    NOT NULL,
          dataset     TEXT    NOT NULL,
          backend     TEXT,
          app_version TEXT    NOT NULL,
          seed        INTEGER NOT NULL,
          error       TEXT,
          notes       TEXT    NOT NULL DEFAULT '',
          parent_id   INTEGER REFERENCES runs(id) ON DELETE SET NULL,
          imported    INTEGER NOT NULL DEFAULT 0,
          last_step   INTEGER NOT NULL DEFAULT 0,
          last_epoch  REAL    NOT NULL DEFAULT 0
        );
        CREATE INDEX runs_status ON runs(status);
        CREATE INDEX runs_created ON runs(created_at);

        CREATE TABLE run_tags (
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          tag    TEXT    NOT NULL,
          UNIQUE (run_id, tag)
        );
        CREATE INDEX run_tags_tag ON run_tags(tag);

        CREATE TABLE run_params (
          run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          key        TEXT    NOT NULL,
          value_num  REAL,
          value_text TEXT,
          PRIMARY KEY (run_id, key)
        ) WITHOUT ROWID;

        CREATE TABLE metrics (
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          name   TEXT    NOT NULL,
          step   INTEGER NOT NULL,
          epoch  REAL    NOT NULL,
          time   INTEGER NOT NULL,
          value  REAL    NOT NULL
        );
        CREATE INDEX metrics_run_name_step ON metrics(run_id, name, step);

        CREATE TABLE artifacts (
          id         INTEGER PRIMARY KEY AUTOINCREMENT,
          run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          kind       TEXT    NOT NULL,
          epoch      REAL    NOT NULL,
          step       INTEGER NOT NULL,
          mime       TEXT    NOT NULL,
          width      INTEGER NOT NULL,
          height     INTEGER NOT NULL,
          meta       TEXT    NOT NULL DEFAULT '{}',
          data       BLOB    NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX artifacts_run_kind_epoch ON artifacts(run_id, kind, epoch);

        CREATE TABLE checkpoints (
          id         INTEGER PRIMARY KEY AUTOINCREMENT,
          run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          epoch      REAL    NOT NULL,
          step       INTEGER NOT NULL,
          tag        TEXT    NOT NULL,
          path       TEXT    NOT NULL,
          bytes      INTEGER NOT NULL,
          metrics    TEXT    NOT NULL DEFAULT '{}',
          created_at INTEGER NOT NULL
        );
        CREATE INDEX checkpoints_run ON checkpoints(run_id);

        CREATE TABLE run_log (
          id      INTEGER PRIMARY KEY AUTOINCREMENT,
          run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          time    INTEGER NOT NULL,
          level   TEXT    NOT NULL,
          message TEXT    NOT NULL
        );
        CREATE INDEX run_log_run ON run_log(run_id, id);
      `);
    },
  },
  {
    version: 2,
    description: 'run_final (last value of each metric, maintained on insert, backfilled) and an index to filter params by value',
    up(db) {
      db.exec(`
        CREATE TABLE run_final (
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          name   TEXT    NOT NULL,
          value  REAL    NOT NULL,
          step   INTEGER NOT NULL,
          PRIMARY KEY (run_id, name)
        ) WITHOUT ROWID;
        CREATE INDEX run_final_name_value ON run_final(name, value);
        CREATE INDEX run_params_key_num ON run_params(key, value_num);
        CREATE INDEX run_params_key_text ON run_params(key, value_text);
      `);
      // Backfill: for every (run, metric) the value at the largest step; among equal steps the last inserted.
      db.exec(`
        INSERT INTO run_final (run_id, name, value, step)
        SELECT run_id, name, value, step FROM (
          SELECT run_id, name, value, step,
                 row_number() OVER (PARTITION BY run_id, name ORDER BY step DESC, rowid DESC) AS rn
          FROM metrics
        ) WHERE rn = 1;
      `);
    },
  },
  {
    version: 3,
    description:
      'metrics clustered by (run_id, name, step): one value per metric and step (a re-reported step replaces the old value), no separate index',
    up(db) {
      db.exec(`
        CREATE TABLE metrics_v3 (
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          name   TEXT    NOT NULL,
          step   INTEGER NOT NULL,
          epoch  REAL    NOT NULL,
          time   INTEGER NOT NULL,
          value  REAL    NOT NULL,
          PRIMARY KEY (run_id, name, step)
        ) WITHOUT ROWID;
        INSERT OR REPLACE INTO metrics_v3 (run_id, name, step, epoch, time, value)
          SELECT run_id, name, step, epoch, time, value FROM metrics ORDER BY rowid;
        DROP TABLE metrics;
        ALTER TABLE metrics_v3 RENAME TO metrics;
      `);
    },
  },
  {
    version: 4,
    description: 'runs.owner_pid: the process that queued or runs the run, so only orphaned runs are marked interrupted',
    up(db) {
      db.exec(`
        ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
        CREATE INDEX runs_active ON runs(status) WHERE status IN ('queued', 'running');
      `);
    },
  },
  {
    version: 5,
    description: "runs.owner_start: the owner process's start time, so a zombie or a reused pid does not count as the owner",
    up(db) {
      db.exec('ALTER TABLE runs ADD COLUMN owner_start TEXT;');
    },
  },
  {
    version: 6,
    description: 'sweeps on a cluster (Slurm job array, Kubernetes Indexed Job) and their tasks, with the run each task was imported as',
    up(db) {
      db.exec(`
        CREATE TABLE sweeps (
          id           INTEGER PRIMARY KEY AUTOINCREMENT,
          name         TEXT    NOT NULL,
          target       TEXT    NOT NULL,
          dir          TEXT    NOT NULL,
          job_id       TEXT,
          options_json TEXT    NOT NULL DEFAULT '{}',
          spec_json    TEXT    NOT NULL,
          created_at   INTEGER NOT NULL,
          cancel_requested_at INTEGER
        );
        CREATE TABLE sweep_tasks (
          sweep_id    INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
          idx         INTEGER NOT NULL,
          name        TEXT    NOT NULL,
          config_text TEXT    NOT NULL,
          state       TEXT    NOT NULL DEFAULT 'pending',
          exit_code   INTEGER,
          reason      TEXT,
          log_tail    TEXT    NOT NULL DEFAULT '',
          run_id      INTEGER REFERENCES runs(id) ON DELETE SET NULL,
          imported_at INTEGER,
          cancel_requested_at INTEGER,
          updated_at  INTEGER NOT NULL,
          PRIMARY KEY (sweep_id, idx)
        );
      `);
    },
  },
  {
    version: 7,
    description:
      'runs.uid (a stable identity a bundle carries, to know a run already imported) and run_deletions (filled by a trigger, so a ' +
      'process that watches the file learns which runs another process deleted without listing every run)',
    up(db) {
      db.exec(`
        ALTER TABLE runs ADD COLUMN uid TEXT;
        UPDATE runs SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL;
        CREATE INDEX runs_uid ON runs(uid);
        CREATE TABLE run_deletions (
          seq        INTEGER PRIMARY KEY AUTOINCREMENT,
          run_id     INTEGER NOT NULL,
          deleted_at INTEGER NOT NULL
        );
        CREATE TRIGGER runs_deleted AFTER DELETE ON runs BEGIN
          INSERT INTO run_deletions (run_id, deleted_at) VALUES (OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
        END;
      `);
    },
  },
  {
    version: 8,
    description:
      'watched sources (folders of run folders logged by the vaewb Python client) and the run each folder became, with read offsets',
    up(db) {
      db.exec(`
        CREATE TABLE sources (
          id         INTEGER PRIMARY KEY AUTOINCREMENT,
          path       TEXT    NOT NULL UNIQUE,
          kind       TEXT    NOT NULL DEFAULT 'python',
          added_at   INTEGER NOT NULL,
          last_error TEXT
        );
        CREATE TABLE source_runs (
          source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
          folder      TEXT    NOT NULL,
          run_id      INTEGER REFERENCES runs(id) ON DELETE SET NULL,
          offsets_json TEXT   NOT NULL DEFAULT '{}',
          state       TEXT    NOT NULL DEFAULT 'running',
          refused     TEXT,
          updated_at  INTEGER NOT NULL,
          PRIMARY KEY (source_id, folder)
        );
        CREATE INDEX source_runs_run ON source_runs(run_id);
      `);
    },
  },
  {
    version: 9,
    description: "workspaces: Compare's whole view (runs, metric, grouping, smoothing, axes, panels, brushes) saved by name",
    up(db) {
      db.exec(`
        CREATE TABLE workspaces (
          id         INTEGER PRIMARY KEY AUTOINCREMENT,
          name       TEXT    NOT NULL UNIQUE,
          state      TEXT    NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 10,
    description:
      'run_purges: runs deleted whose metrics, artifacts and log rows are still being deleted in chunks (store/run-purge.ts), ' +
      'so a deleted run disappears at once without blocking the process, and a crash midway is finished at the next start',
    up(db) {
      db.exec(`
        CREATE TABLE run_purges (
          run_id    INTEGER PRIMARY KEY,
          queued_at INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 11,
    description:
      "run_edits (filled by triggers on a run's name, notes and tags), so a process that watches the file learns which runs " +
      'another process renamed, tagged or annotated without listing every run; indexes on runs.parent_id and sweep_tasks.run_id ' +
      '(their ON DELETE SET NULL scanned the whole table for every run deleted: deleting 10,000 runs was quadratic)',
    up(db) {
      db.exec(`
        CREATE INDEX runs_parent ON runs(parent_id);
        CREATE INDEX sweep_tasks_run ON sweep_tasks(run_id);
        CREATE TABLE run_edits (
          seq       INTEGER PRIMARY KEY AUTOINCREMENT,
          run_id    INTEGER NOT NULL,
          edited_at INTEGER NOT NULL
        );
        CREATE TRIGGER runs_edited AFTER UPDATE OF name, notes ON runs
          WHEN OLD.name IS NOT NEW.name OR OLD.notes IS NOT NEW.notes BEGIN
          INSERT INTO run_edits (run_id, edited_at) VALUES (NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
        END;
        CREATE TRIGGER run_tags_added AFTER INSERT ON run_tags BEGIN
          INSERT INTO run_edits (run_id, edited_at) VALUES (NEW.run_id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
        END;
        CREATE TRIGGER run_tags_removed AFTER DELETE ON run_tags
          WHEN EXISTS (SELECT 1 FROM runs WHERE id = OLD.run_id) BEGIN
          INSERT INTO run_edits (run_id, edited_at) VALUES (OLD.run_id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
        END;
      `);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export class SchemaVersionError extends Error {
  constructor(
    readonly file: string,
    readonly fileVersion: number,
    readonly codeVersion: number,
  ) {
    super(
      `the run database ${file} has schema version ${fileVersion}, but this version of VAE Workbench only knows ` +
        `schema versions up to ${codeVersion}; it was written by a newer release. Update VAE Workbench, or open a different database.`,
    );
    this.name = 'SchemaVersionError';
  }
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Bring the database up to `target` (default: the newest version), one migration per transaction, so a crash
 * in the middle leaves the file at the last completed version. Refuses a file newer than the code.
 * Returns the versions applied.
 */
export function migrate(db: Database.Database, file: string, target: number = SCHEMA_VERSION): number[] {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) throw new SchemaVersionError(file, current, SCHEMA_VERSION);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}
