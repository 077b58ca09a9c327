/**
 * The `TrafficSwitch` document: the kill switch. `name: mesh` stops every call between services;
 * `name: <service>` stops the calls to that one service. One small document per scope, so the
 * dashboard toggles it with one write and the audit trail shows who stopped what, and when.
 *
 * ```yaml
 * kind: TrafficSwitch
 * name: mesh            # or a service name
 * spec: { stopped: true, reason: "incident 4711" }
 * ```
 *
 * `stopped: false` (or deleting the document) lifts it. The name `mesh` is the mesh-wide scope, so a
 * service called `mesh` cannot be stopped on its own (the mesh-wide switch stops it with the rest).
 */
import { z } from 'zod';

/** The name of the mesh-wide switch. */
export const MESH_SWITCH = 'mesh';

/** Longest `reason`: it is carried in every refusal's message. */
export const MAX_REASON_LENGTH = 256;

export const TrafficSwitchSpec = z.strictObject({
  /** True stops the traffic of the scope; false lets it flow. */
  stopped: z.boolean(),
  /** Why, for people: shown in the refusals' messages, `weft traffic status` and `describe()`. */
  reason: z
    .string()
    .min(1)
    .max(MAX_REASON_LENGTH)
    .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters')
    .optional(),
});
export type TrafficSwitchSpec = z.infer<typeof TrafficSwitchSpec>;
