import { z } from 'zod';

/** The EdgeCom Energy API series reply: `{"result":[{"time":<unix seconds>,"value":<number>}]}`. */
export const edgecomReply = z.object({
  result: z.array(z.object({ time: z.number().int(), value: z.number() })),
});
