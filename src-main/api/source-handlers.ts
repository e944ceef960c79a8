// The handlers of the watched source calls (`sources.*`): folders of run folders logged by the vaewb Python client,
// added, listed, removed and scanned through the service's WatchedSources (src-main/sources/).
import type { WatchedSources } from '../sources/sources-service';
import type { TopicHandlers } from './handler-types';

export function sourceHandlers(sources: WatchedSources): TopicHandlers<'sources'> {
  return {
    'sources.add': (input) => sources.add(input.path),
    'sources.list': () => sources.list(),
    'sources.remove': (input) => sources.remove(input.sourceId),
    'sources.scan': (input) => sources.scan(input.sourceId),
  };
}
