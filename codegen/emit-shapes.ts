// shapes.ts: one declaration per named shape. Optional members are `?: T | undefined` so handlers can pass a
// possibly-undefined value straight through under exactOptionalPropertyTypes; serializers omit undefined anyway.
import { StructureKind, VariableDeclarationKind, type StatementStructures } from "ts-morph";
import { summarize } from "./docs.ts";
import { requireMember, type CodegenModel } from "./model.ts";
import { arrayLiteral, unionType } from "./text.ts";

export function emitShapes(model: CodegenModel): StatementStructures[] {
  const statements: StatementStructures[] = [];
  for (const id of model.namedShapes) {
    const shape = model.shape(id);
    const name = model.typeName(id);
    const docs = docsOf(shape.traits);
    switch (shape.type) {
      case "structure":
        statements.push({
          kind: StructureKind.Interface,
          name,
          isExported: true,
          docs,
          properties: model.members(id).map((member) => ({
            kind: StructureKind.PropertySignature,
            name: member.name,
            hasQuestionToken: !member.required,
            type: member.required ? model.typeRef(member.target) : `${model.typeRef(member.target)} | undefined`,
            docs: docsOf(member.memberTraits),
          })),
        });
        break;
      case "union":
        // Exactly one member is set; modelled as a union of single-member objects.
        statements.push({
          kind: StructureKind.TypeAlias,
          name,
          isExported: true,
          docs,
          type: unionType(model.members(id).map((member) => `{ ${member.name}: ${model.typeRef(member.target)} }`)),
        });
        break;
      case "list":
      case "map":
        statements.push({
          kind: StructureKind.TypeAlias,
          name,
          isExported: true,
          docs,
          type:
            shape.type === "list"
              ? model.typeRef(id)
              : `Record<string, ${model.typeRef(requireMember(shape.value, id).target)}>`,
        });
        break;
      case "enum":
      case "intEnum": {
        const literals = model.enumValues(id).map((value) => JSON.stringify(value));
        statements.push({
          kind: StructureKind.TypeAlias,
          name,
          isExported: true,
          docs,
          type: unionType(literals),
        });
        statements.push({
          kind: StructureKind.VariableStatement,
          isExported: true,
          declarationKind: VariableDeclarationKind.Const,
          declarations: [{ name: `${name}Values`, initializer: arrayLiteral(literals, " as const") }],
        });
        break;
      }
      default:
        throw new Error(`unsupported shape type ${shape.type} for ${id}`);
    }
  }
  return statements;
}

export function docsOf(traits: Record<string, unknown> | undefined): string[] {
  const summary = summarize(traits?.["smithy.api#documentation"]);
  return summary === undefined ? [] : [summary];
}
