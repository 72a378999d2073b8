// Every zod schema a host checks input with, in the one module it loads on its first connection
// (host-schemas-loader.ts): requests, hellos, and the events it reads back from its database.
import { z } from 'zod';

export { ClientMessage, Hello } from './messages.ts';
export { ChatEvent } from './chat-event.ts';

/** A hello's version alone: a hello of another shape may be from another version's client. */
export const HelloVersion = z.object({ v: z.unknown() });
