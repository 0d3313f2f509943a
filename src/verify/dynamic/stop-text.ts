// Why a run stopped, in words a user understands.

import type { ProcessStop } from '../../loader/index.js';
import { SIGNAL_NAMES } from '../../loader/index.js';

export function describeStop(stop: ProcessStop): string {
  switch (stop.reason) {
    case 'exited':
      return `the program exited with status ${stop.status}`;
    case 'killed':
      return `the program was killed by ${SIGNAL_NAMES[stop.signo] ?? `signal ${stop.signo}`}: ${stop.detail}`;
    case 'budget':
      return 'the instruction budget ran out';
    case 'until':
    case 'call':
      return 'stopped by the verifier';
    case 'error':
      return `the sandbox could not go on: ${stop.error.message}`;
  }
}
