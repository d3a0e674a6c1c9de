/**
 * What the encoder takes: the raw token model of format/types.ts without the fields that only describe where a
 * decoded token was (`offset`, `length`) or that follow from its type (`id`). A decoded token is therefore a valid
 * input as it is, which is what makes decode → encode round trips possible.
 */
import type {
  Header32ExToken,
  Header32Token,
  Header64ExToken,
  Header64Token,
  Token,
  UnknownToken,
} from '../types.js';

/** Omit applied to each member of a union separately, so the `type` discriminant still narrows. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Any token. The unknown token keeps its `id`: there is no layout to derive it from, and the encoder writes the id
 * byte followed by `data`.
 */
export type TokenInput =
  | DistributiveOmit<Exclude<Token, UnknownToken>, 'id' | 'offset' | 'length'>
  | Omit<UnknownToken, 'offset' | 'length'>;

type HeaderInputOf<H> = Omit<H, 'id' | 'offset' | 'length' | 'size' | 'version' | 'modifier'> & {
  /** Header version byte; 11 (AUDIT_HEADER_VERSION_OPENBSM) when absent. */
  version?: number;
  /** Event modifier; 0 (what both kernels write) when absent. */
  modifier?: number;
};

/** A record header without its size, which `encodeRecord` computes. */
export type HeaderInput =
  | HeaderInputOf<Header32Token>
  | HeaderInputOf<Header32ExToken>
  | HeaderInputOf<Header64Token>
  | HeaderInputOf<Header64ExToken>;
