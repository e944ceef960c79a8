// The service's lifetime for one command: opened on the data home, closed when the command is done.
import type { CallName, CallOutput } from '@shared/contract';
import { WorkbenchService } from '../../api/service';

export async function withService<T>(fn: (service: WorkbenchService) => Promise<T>, host: 'cli' | 'web' = 'cli'): Promise<T> {
  const service = new WorkbenchService({ host });
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
}

/** One typed call of the contract. */
export function call<N extends CallName>(service: WorkbenchService, name: N, input: unknown): Promise<CallOutput<N>> {
  return service.call(name, input);
}
