import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Structured JSON logs; API keys and authorization headers never reach the output. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'wattline' },
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'apiKey', 'key'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
