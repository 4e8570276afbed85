// The store's worker with neither OPFS nor Web Locks (very old browsers): each tab runs alone, so two
// tabs both lead on the same IndexedDB data. Imports run in order: the APIs are gone before the store loads.
import './remove-opfs.js';
import './remove-locks.js';
import { serve } from 'agent-state-store/worker';

serve();
