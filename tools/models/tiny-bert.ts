/**
 * A tiny BERT-style feature-extraction model in Hugging Face layout, with
 * seeded random weights, for testing the @huggingface/transformers adapter
 * fully offline. Not a useful model: only its plumbing is real.
 *
 * Layout (what transformers.js v4 reads for `pipeline('feature-extraction', id,
 * { dtype: 'fp32' })`): config.json, tokenizer.json, tokenizer_config.json and
 * onnx/model.onnx (fp32 has no file-name suffix; q8 would be onnx/model_quantized.onnx).
 * The graph declares input_ids, attention_mask and token_type_ids (int64,
 * [batch, sequence]); transformers.js feeds exactly the inputs a session
 * declares. Output: last_hidden_state [batch, sequence, hidden] =
 * tanh((word_emb[input_ids] + type_emb[token_type_ids]) @ W) * attention_mask.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DataType, GraphBuilder } from '../../src/formats/onnx-proto';
import { mulberry32 } from '../../src/math/random';

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORDS = [
  'the',
  'a',
  'an',
  'and',
  'of',
  'in',
  'with',
  'for',
  'movie',
  'film',
  'space',
  'alien',
  'love',
  'story',
  'comedy',
  'horror',
  'drama',
  'action',
  'hero',
  'dark',
  'night',
  'city',
  'war',
  'music',
  'family',
  'friend',
  'school',
  'dog',
  'cat',
  'robot',
  'time',
  'travel',
  'red',
  'blue',
  'green',
  'shoes',
  'shirt',
  'jacket',
  'cotton',
  'running',
  'trail',
  'book',
  'coffee',
  'funny',
  'scary',
  'sad',
  'happy',
  'old',
  'new',
  'small',
  'big',
  '##s',
  '##ing',
  '##ed',
  '##er',
];
/** Hidden size: the length of every vector the fixture produces. */
export const TINY_BERT_HIDDEN = 16;
/** Vocabulary size (special tokens plus words). */
export const TINY_BERT_VOCAB = SPECIAL.length + WORDS.length;
const SEED = 1234;

/** The fixture's files, path (relative, '/'-separated) -> contents. Same bytes on every call. */
export function buildTinyBertFiles(): Record<string, string | Uint8Array> {
  const vocabList = [...SPECIAL, ...WORDS];
  const vocab = Object.fromEntries(vocabList.map((w, i) => [w, i]));
  const H = TINY_BERT_HIDDEN;
  const rand = mulberry32(SEED);
  const r = (n: number): number[] => Array.from({ length: n }, () => rand() * 2 - 1);
  const g = new GraphBuilder('tiny_bert');
  g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  g.input('attention_mask', DataType.INT64, ['batch_size', 'sequence_length']);
  g.input('token_type_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  g.output('last_hidden_state', DataType.FLOAT, ['batch_size', 'sequence_length', H]);
  g.floatTensor('word_embeddings', [vocabList.length, H], r(vocabList.length * H));
  g.floatTensor('token_type_embeddings', [2, H], r(2 * H));
  g.floatTensor('dense', [H, H], r(H * H));
  g.int64Tensor('axis_2', [1], [2]);
  g.node('Gather', ['word_embeddings', 'input_ids'], ['words'], { axis: 0 });
  g.node('Gather', ['token_type_embeddings', 'token_type_ids'], ['types'], { axis: 0 });
  g.node('Add', ['words', 'types'], ['embedded']);
  g.node('MatMul', ['embedded', 'dense'], ['projected']);
  g.node('Tanh', ['projected'], ['activated']);
  g.node('Cast', ['attention_mask'], ['mask_float'], { to: DataType.FLOAT });
  g.node('Unsqueeze', ['mask_float', 'axis_2'], ['mask_3d']);
  g.node('Mul', ['activated', 'mask_3d'], ['last_hidden_state']);
  const model = g.toBytes({
    producer: 'on-device-recs build-fixtures',
    producerVersion: '1',
    opset: 17,
    doc: 'Tiny BERT-style test fixture, random weights.',
  });

  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map((t, i) => special(i, t)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
  const tokens = { cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' };
  const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
  return {
    'config.json': json({
      architectures: ['BertModel'],
      model_type: 'bert',
      hidden_size: H,
      num_attention_heads: 1,
      num_hidden_layers: 1,
      intermediate_size: H,
      hidden_act: 'gelu',
      max_position_embeddings: 128,
      type_vocab_size: 2,
      vocab_size: vocabList.length,
      pad_token_id: vocab['[PAD]'],
    }),
    'tokenizer.json': json(tokenizer),
    'tokenizer_config.json': json({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 128, padding_side: 'right', ...tokens }),
    'special_tokens_map.json': json(tokens),
    'onnx/model.onnx': model,
    'README.md':
      '# tiny-bert (test fixture)\n\nGenerated by `npm run build:fixtures` (tools/models/tiny-bert.ts) with seeded random weights, ' +
      'to test the Hugging Face adapter (src/encoding/hf-encoder.ts) offline. Not a useful model. Do not edit: rebuild.\n',
  };
}

/** Writes the fixture folder (creating it). Same bytes on every run. */
export async function buildTinyBertFixture(dir: string): Promise<void> {
  for (const [name, content] of Object.entries(buildTinyBertFiles())) {
    const path = join(dir, ...name.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}
