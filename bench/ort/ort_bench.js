// ONNX Runtime (CPU, single thread) peer of bench_nn: same model, same
// deterministic input (x[i] = 0.5 sin(0.01 (i mod 100000))), median of N runs
// after one warm-up. usage: node ort_bench.js MODEL.onnx BATCH[,BATCH] LENGTH REPEAT [CHANNELS]
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  const [model, batchArg = '1', lengthArg = '0', repeatArg = '10', chanArg = '12'] = process.argv.slice(2);
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
  const inName = sess.inputNames[0];
  const outName = sess.outputNames[0];
  for (const b of batchArg.split(',').map(Number)) {
    const length = Number(lengthArg);
    const dims = [b, Number(chanArg), length];
    const n = dims.reduce((a, c) => a * c, 1);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.fround(0.5 * Math.sin(Math.fround(0.01 * (i % 100000))));
    const feeds = {[inName]: new ort.Tensor('float32', x, dims)};
    let out = await sess.run(feeds);
    const t = [];
    for (let r = 0; r < Number(repeatArg); r++) {
      const t0 = process.hrtime.bigint();
      out = await sess.run(feeds);
      t.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    t.sort((a, c) => a - c);
    const med = t[Math.floor(t.length / 2)];
    let sum = 0;
    for (const v of out[outName].data) sum += v;
    console.log(JSON.stringify({engine: 'ort', version: ort.env.versions ? ort.env.versions.common : '', batch: b,
                                ms_per_record: med / b, output_sum: sum}));
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
