// The handlers of the workspace calls (`workspaces.*`): Compare views saved under a name in the store, their number
// bounded by LIMITS.WORKSPACES_MAX_COUNT (a save under an existing name replaces that view and always passes).
import { checkLimit } from '@shared/limits';
import type { RunStore } from '../store/run-store';
import type { TopicHandlers } from './handler-types';

export function workspaceHandlers(store: RunStore): TopicHandlers<'workspaces'> {
  return {
    'workspaces.list': () => store.listWorkspaces(),
    'workspaces.save': (input) => {
      const exists = store.listWorkspaces().some((w) => w.name === input.name);
      if (!exists) checkLimit('the number of workspaces', store.listWorkspaces().length + 1, 'WORKSPACES_MAX_COUNT');
      return store.saveWorkspace(input.name, input.state);
    },
    'workspaces.delete': (input) => ({ deleted: store.deleteWorkspace(input.id) }),
  };
}
