// Hash routing: #/runs, #/launch?from=3, #/run/12, #/compare?ids=1,2, #/samples/12.
export interface Route {
  name: 'runs' | 'launch' | 'run' | 'compare' | 'samples' | 'notfound';
  id: number | null;
  query: URLSearchParams;
  path: string;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/runs';
  const [pathPart, queryPart] = raw.split('?', 2) as [string, string | undefined];
  const query = new URLSearchParams(queryPart ?? '');
  const parts = pathPart.split('/').filter(Boolean);
  const head = parts[0] ?? 'runs';
  const id = parts[1] !== undefined && /^\d+$/.test(parts[1]) ? Number(parts[1]) : null;
  switch (head) {
    case 'runs':
    case 'launch':
    case 'compare':
      return { name: head, id: null, query, path: pathPart };
    case 'run':
    case 'samples':
      return id !== null ? { name: head, id, query, path: pathPart } : { name: 'notfound', id: null, query, path: pathPart };
    default:
      return { name: 'notfound', id: null, query, path: pathPart };
  }
}

class Router {
  route = $state<Route>(parseHash(typeof window === 'undefined' ? '' : window.location.hash));
  constructor() {
    if (typeof window !== 'undefined')
      window.addEventListener('hashchange', () => {
        this.route = parseHash(window.location.hash);
      });
  }
}

export const router = new Router();

export function navigate(hash: string): void {
  window.location.hash = hash.startsWith('#') ? hash : `#${hash}`;
}
