/**
 * A device as one string key: 'type', 'type:os' or 'type:os:app_version', each part percent-escaped so that
 * neither ':' nor the window codec's separators ('|', '~') can occur in a part. Events carry their device
 * in this form; the profile stores it decoded, and re-encodes it to break ties between equal event times.
 */
import type { BehaviouralEvent } from '@personalization-data-platform/contract';

export interface Device {
  type: string;
  os?: string;
  app_version?: string;
}

function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || c === 58 || c === 124 || c === 126) return true; // % : | ~
  }
  return false;
}
const escapePart = (s: string) => (needsEscape(s) ? s.replace(/[%:|~]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`) : s);
const unescapePart = (s: string) => (s.includes('%') ? decodeURIComponent(s) : s);

/** The key of an event's device, or undefined when it has no device type. */
export function encodeDevice(device: BehaviouralEvent['device']): string | undefined {
  if (!device || typeof device.type !== 'string') return undefined;
  let s = escapePart(device.type);
  if (typeof device.os === 'string' || typeof device.app_version === 'string') s += `:${escapePart(device.os ?? '')}`;
  if (typeof device.app_version === 'string') s += `:${escapePart(device.app_version)}`;
  return s;
}

export function decodeDevice(encoded: string): Device {
  const [type, os, app] = encoded.split(':');
  const out: Device = { type: unescapePart(type!) };
  if (os) out.os = unescapePart(os);
  if (app) out.app_version = unescapePart(app);
  return out;
}

/** The key of a stored (decoded) device, as `encodeDevice` writes it for the event it came from. */
export function deviceKeyOf(d: Device): string {
  let s = escapePart(d.type);
  if (d.os !== undefined || d.app_version !== undefined) s += `:${escapePart(d.os ?? '')}`;
  if (d.app_version !== undefined) s += `:${escapePart(d.app_version)}`;
  return s;
}
