// js-hcl-parser ships hashicorp/hcl v1 compiled to JavaScript by GopherJS, without types.
declare module "js-hcl-parser" {
  /** JSON text of the decoded value, or "unable to parse JSON: <hcl error>". */
  export function parse(text: string): string;
  /** HCL text printed from JSON text, or "unable to parse HCL: <error>". */
  export function stringify(text: string): string;
}
