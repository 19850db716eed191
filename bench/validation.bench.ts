import { validateRecord } from '@personalization-data-platform/contract';
import type { Dataset } from './dataset';
import { measure, ratioFigure, type Figure } from './harness';

/** Decode + parse (the floor every handler pays) against decode + parse + validate + normalize. */
export function validationBench(data: Dataset): Figure[] {
  const m = measure(data.base64, {
    floor: (items) => {
      let n = 0;
      for (const b64 of items) n += JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) ? 1 : 0;
      return n;
    },
    validate: (items) => {
      let n = 0;
      for (const b64 of items) n += validateRecord(Buffer.from(b64, 'base64'), data.arrivalMs).ok ? 1 : 0;
      if (n !== items.length) throw new Error(`benchmark data set is not all valid: ${items.length - n} invalid`);
      return n;
    },
  });
  const r = m.throughput;
  return [
    { name: 'decode+parse (floor)', value: Math.round(r.floor!), unit: 'records/s' },
    ratioFigure('decode+parse+validate', r.validate!, 'records/s', 'decode+parse (floor)', r.floor!, '>= 0.75', m.ratio.validate),
  ];
}
