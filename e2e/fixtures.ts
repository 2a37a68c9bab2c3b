/** A fixed, varied text set for encoder parity checks (browser vs Node, WebGPU vs WASM). */
export const FIXED_TEXTS: string[] = [
  'Toy Story (1995). Adventure. Adventure, Animation, Children, Comedy, Fantasy, pixar, fun',
  'Heat (1995). Action. Action, Crime, Thriller',
  'Shining, The (1980). Horror. Horror, atmospheric, disturbing, jack nicholson',
  'space alien invasion sci-fi',
  'a romantic comedy set in paris',
  '',
  'zzqxv blorptastic',
  'Amélie (2001). Comedy. Comedy, Romance, paris, quirky',
  'ＦＵＬＬ-WIDTH text and ligatures ﬁne',
  "Schindler's List (1993). Drama. Drama, War",
  '東京物語 Tokyo Story (1953)',
  'the of and a to in',
  'Sci-Fi Film-Noir IMAX Documentary',
  'word '.repeat(600),
  'red running shoes for trail marathon',
];
