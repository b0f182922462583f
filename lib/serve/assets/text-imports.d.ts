// The dashboard's stylesheet is imported as text (see ../assets.ts).
declare module "*.css" {
  const text: string;
  export default text;
}
