/** Nominal typing for ids and amounts: a Brand<number, 'Credits'> is not a plain number. */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };
