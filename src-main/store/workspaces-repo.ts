// Saved workspaces (the table of migration 7): a name and Compare's whole view as the URL query that restores it
// (runs, metric, grouping, smoothing, axes, panels, brushes). Saving a name again replaces that workspace's view.
import type { Workspace } from '@shared/model-types';
import type { StoreDb } from './db';

interface RawWorkspace {
  id: number;
  name: string;
  state: string;
  created_at: number;
  updated_at: number;
}

const toWorkspace = (r: RawWorkspace): Workspace => ({
  id: r.id,
  name: r.name,
  state: r.state,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class WorkspacesRepo {
  constructor(private readonly sql: StoreDb) {}

  /** Every workspace, most recently saved first. */
  list(): Workspace[] {
    return (this.sql.stmt('SELECT * FROM workspaces ORDER BY updated_at DESC, id DESC').all() as RawWorkspace[]).map(toWorkspace);
  }

  /** Save `state` under `name`: a new workspace, or the existing one of that name updated (its id and creation kept). */
  save(name: string, state: string, now: number = Date.now()): Workspace {
    this.sql
      .stmt(
        `INSERT INTO workspaces (name, state, created_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
      )
      .run(name, state, now, now);
    return toWorkspace(this.sql.stmt('SELECT * FROM workspaces WHERE name = ?').get(name) as RawWorkspace);
  }

  /** Remove a workspace; false when there was none with this id. */
  delete(id: number): boolean {
    return this.sql.stmt('DELETE FROM workspaces WHERE id = ?').run(id).changes > 0;
  }
}
