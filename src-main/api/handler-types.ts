// The types of the service's handlers: one function per contract call. The service builds its one table of them
// (service.ts, makeHandlers) from its own entries and the topic groups of the *-handlers.ts modules.
import type { CallName, CallOutput, CallParsedInput } from '@shared/contract';

export type Handler<N extends CallName> = (input: CallParsedInput<N>) => Promise<CallOutput<N>> | CallOutput<N>;
export type Handlers = { [N in CallName]: Handler<N> };
/** The handlers of the calls named `<topic>.*` (e.g. `TopicHandlers<'sweeps'>`). */
export type TopicHandlers<T extends string> = { [N in Extract<CallName, `${T}.${string}`>]: Handler<N> };
