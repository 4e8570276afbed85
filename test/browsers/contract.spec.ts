import { contractPart } from './contract-part.js';

// The contract suite, first half (the other: contract-2.spec.ts).
contractPart(0, 2);
