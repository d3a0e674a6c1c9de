import { test } from 'node:test';
import { runFuzzCase } from '../fuzz/fuzz-case.js';

// A bounded slice of the fuzzer (npm run fuzz runs millions): damage never throws, hangs, or costs a neighbour.
test('seeded fuzz: 3000 damaged streams deliver every undamaged record', () => {
  for (let seed = 1; seed <= 3000; seed++) runFuzzCase(seed);
});
