import { contractPart } from './contract-part.js';

// The contract suite, second half (the first: contract.spec.ts).
contractPart(1, 2);
