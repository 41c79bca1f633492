// Types for js-hcl-parser (HashiCorp HCL v1 compiled to JS), which ships none.
declare module 'js-hcl-parser' {
  /** HCL text → a JSON string, or, on a syntax error, a non-JSON message like "… At 2:2: …". */
  export function parse(text: string): string;
  export function stringify(json: string): string;
  const hcl: { parse: typeof parse; stringify: typeof stringify };
  export default hcl;
}
