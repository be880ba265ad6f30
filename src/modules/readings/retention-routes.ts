import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { InvalidInput } from '../../core/errors.js';
import { type RetentionRule, type RetentionRun, retentionRule } from './retention.js';

const body = z.strictObject({ rules: z.array(retentionRule).max(1000) });

/** `GET|PUT /api/v1/retention` and `POST /api/v1/retention/apply`. */
export const retentionRoutes =
  (deps: {
    /** The rules in force and where they come from. */
    rules: () => Promise<{ rules: RetentionRule[]; source: 'settings' | 'api' }>;
    save: (rules: RetentionRule[]) => Promise<void>;
    apply: () => Promise<RetentionRun>;
  }): FastifyPluginAsync =>
  async (http) => {
    http.get(
      '/api/v1/retention',
      {
        config: { access: 'read' },
        schema: {
          summary: 'The retention rules in force, and whether they come from the settings or the API',
          tags: ['readings'],
        },
      },
      () => deps.rules(),
    );
    http.put(
      '/api/v1/retention',
      {
        config: { access: 'admin' },
        schema: {
          summary:
            'Replaces the retention rules: {"rules":[{"pattern":"home/*","keep_raw_days":90}]} (an empty list: the settings apply)',
          tags: ['readings'],
        },
      },
      async (request) => {
        const parsed = body.safeParse(request.body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const field = issue.path.join('.') || 'rules';
          throw new InvalidInput('invalid_rules', `${field}: ${issue.message}`, { field });
        }
        // a pattern is the rules' key (found by fuzzing: a second rule for it was a 500)
        const patterns = parsed.data.rules.map((r) => r.pattern);
        const twice = patterns.findIndex((p, i) => patterns.indexOf(p) !== i);
        if (twice !== -1)
          throw new InvalidInput(
            'invalid_rules',
            `rules.${twice}.pattern: "${patterns[twice]}" has a rule already (one rule per pattern)`,
            { field: `rules.${twice}.pattern` },
          );
        await deps.save(parsed.data.rules);
        return deps.rules();
      },
    );
    http.post(
      '/api/v1/retention/apply',
      {
        config: { access: 'admin' },
        schema: {
          summary:
            'Applies the retention rules now (the jobs role does it every retention.intervalMs) and answers what was deleted',
          tags: ['readings'],
        },
      },
      async () => {
        const run = await deps.apply();
        return { series: run.series, deleted: run.deleted, supported: run.supported };
      },
    );
  };
