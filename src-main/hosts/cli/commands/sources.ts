// `vae-workbench sources [list] | add DIR | remove ID | sync [ID]`: the folders of runs logged by the vaewb Python
// client that the workbench follows (the app and the web host follow them live; `sync` imports what is new now).
import { parseFlags, UsageError } from '../args';
import { out } from '../output';
import { call, withService } from '../service';

function sourceId(value: string | undefined, what: string): number {
  const id = Number(value);
  if (!Number.isInteger(id) || id <= 0) throw new UsageError(`${what} needs a source id (see vae-workbench sources)`);
  return id;
}

export async function sourcesCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('sources', args);
  const [sub = 'list', arg] = positionals;
  const json = !!values.json;
  return withService(async (s) => {
    if (sub === 'add') {
      if (!arg) throw new UsageError('sources add needs a folder');
      const source = await call(s, 'sources.add', { path: arg });
      out(json ? JSON.stringify(source) : `watching ${source.path} as source ${source.id} (${source.runs} runs so far)`);
    } else if (sub === 'remove') {
      const r = await call(s, 'sources.remove', { sourceId: sourceId(arg, 'sources remove') });
      out(json ? JSON.stringify(r) : r.removed ? 'removed (its runs stay)' : 'no such source');
    } else if (sub === 'sync') {
      const r = await call(s, 'sources.scan', arg ? { sourceId: sourceId(arg, 'sources sync') } : {});
      out(json ? JSON.stringify(r) : `${r.changed} run folder(s) had something new`);
    } else if (sub === 'list') {
      const list = await call(s, 'sources.list', {});
      if (json) out(JSON.stringify(list));
      else if (!list.length) out('no watched sources (vae-workbench sources add DIR)');
      else for (const x of list) out(`${x.id}\t${x.path}\t${x.runs} runs${x.lastError ? `\t${x.lastError}` : ''}`);
    } else throw new UsageError(`unknown sources command "${sub}" (list, add DIR, remove ID, sync [ID])`);
    return 0;
  });
}
