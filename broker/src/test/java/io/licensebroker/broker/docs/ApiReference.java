package io.licensebroker.broker.docs;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import com.google.protobuf.DescriptorProtos.SourceCodeInfo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * docs/api.md, rendered from the protos' own comments (the descriptor set the proto module writes
 * with source info): every service and RPC, every message and field, every enum value. The protos
 * are the reference; this only lays them out.
 */
final class ApiReference {
    static final String RESOURCE = "/io/licensebroker/proto/v1/licensebroker-v1.desc";
    // Field numbers of descriptor.proto, which source-code-info paths are made of.
    private static final int FILE_MESSAGE = 4;
    private static final int FILE_ENUM = 5;
    private static final int FILE_SERVICE = 6;
    private static final int MESSAGE_FIELD = 2;
    private static final int MESSAGE_NESTED = 3;
    private static final int MESSAGE_ENUM = 4;
    private static final int ENUM_VALUE = 2;
    private static final int SERVICE_METHOD = 2;

    private ApiReference() {
    }

    static String render() {
        StringBuilder md = new StringBuilder();
        md.append("# License Broker API reference\n\n")
                .append("Generated from the comments of `proto/src/main/proto/licensebroker/v1/*.proto` by `ApiReferenceTest`\n")
                .append("(`mvn -pl broker -am test -Dtest=ApiReferenceTest -Dapi.reference.update=true` rewrites it); do not edit by hand.\n")
                .append("Package `licensebroker.v1`. Every refusal carries a `google.rpc.ErrorInfo` with domain `licensebroker`,\n")
                .append("a `reason` from `ErrorReason` below and, for INVALID_ARGUMENT, the offending field in metadata key `field`.\n");
        for (FileDescriptorProto file : descriptors().getFileList()) {
            if (!file.getPackage().equals("licensebroker.v1")) {
                continue;
            }
            Map<List<Integer>, String> comments = comments(file.getSourceCodeInfo());
            md.append("\n## ").append(file.getName().substring(file.getName().lastIndexOf('/') + 1)).append("\n");
            for (int s = 0; s < file.getServiceCount(); s++) {
                service(md, file.getService(s), comments, List.of(FILE_SERVICE, s));
            }
            for (int m = 0; m < file.getMessageTypeCount(); m++) {
                message(md, file.getMessageType(m), "", comments, List.of(FILE_MESSAGE, m));
            }
            for (int e = 0; e < file.getEnumTypeCount(); e++) {
                enumeration(md, file.getEnumType(e), "", comments, List.of(FILE_ENUM, e));
            }
        }
        return md.toString();
    }

    private static void service(StringBuilder md, ServiceDescriptorProto service, Map<List<Integer>, String> comments, List<Integer> path) {
        md.append("\n### service ").append(service.getName()).append("\n\n");
        paragraph(md, comments.get(path));
        md.append("| RPC | request | response | what it does |\n|---|---|---|---|\n");
        for (int r = 0; r < service.getMethodCount(); r++) {
            MethodDescriptorProto rpc = service.getMethod(r);
            md.append("| `").append(rpc.getName()).append("` | ").append(typeLink(rpc.getInputType(), rpc.getClientStreaming()))
                    .append(" | ").append(typeLink(rpc.getOutputType(), rpc.getServerStreaming())).append(" | ")
                    .append(cell(comments.get(append(path, SERVICE_METHOD, r)))).append(" |\n");
        }
    }

    private static void message(StringBuilder md, DescriptorProto message, String outer, Map<List<Integer>, String> comments, List<Integer> path) {
        String name = outer + message.getName();
        md.append("\n### ").append(name).append("\n\n");
        paragraph(md, comments.get(path));
        if (message.getFieldCount() > 0) {
            md.append("| field | type | meaning |\n|---|---|---|\n");
            for (int f = 0; f < message.getFieldCount(); f++) {
                FieldDescriptorProto field = message.getField(f);
                md.append("| `").append(field.getName()).append("` | ").append(fieldType(field)).append(" | ")
                        .append(cell(comments.get(append(path, MESSAGE_FIELD, f)))).append(" |\n");
            }
        }
        for (int n = 0; n < message.getNestedTypeCount(); n++) {
            if (!message.getNestedType(n).getOptions().getMapEntry()) {
                message(md, message.getNestedType(n), name + ".", comments, append(path, MESSAGE_NESTED, n));
            }
        }
        for (int e = 0; e < message.getEnumTypeCount(); e++) {
            enumeration(md, message.getEnumType(e), name + ".", comments, append(path, MESSAGE_ENUM, e));
        }
    }

    private static void enumeration(StringBuilder md, EnumDescriptorProto e, String outer, Map<List<Integer>, String> comments, List<Integer> path) {
        md.append("\n### enum ").append(outer).append(e.getName()).append("\n\n");
        paragraph(md, comments.get(path));
        md.append("| value | number | meaning |\n|---|---|---|\n");
        for (int v = 0; v < e.getValueCount(); v++) {
            md.append("| `").append(e.getValue(v).getName()).append("` | ").append(e.getValue(v).getNumber()).append(" | ")
                    .append(cell(comments.get(append(path, ENUM_VALUE, v)))).append(" |\n");
        }
    }

    private static String fieldType(FieldDescriptorProto field) {
        String type = switch (field.getType()) {
            case TYPE_MESSAGE -> typeLink(field.getTypeName(), false);
            case TYPE_ENUM -> typeLink(field.getTypeName(), false, "enum-");
            default -> "`" + field.getType().name().substring("TYPE_".length()).toLowerCase(Locale.ROOT) + "`";
        };
        return field.getLabel() == FieldDescriptorProto.Label.LABEL_REPEATED ? "repeated " + type : type;
    }

    private static String typeLink(String qualified, boolean stream) {
        return typeLink(qualified, stream, "");
    }

    private static String typeLink(String qualified, boolean stream, String headingPrefix) {
        String name = qualified.startsWith(".") ? qualified.substring(1) : qualified;
        String shown = name.startsWith("licensebroker.v1.") ? name.substring("licensebroker.v1.".length()) : name;
        String text = "`" + shown + "`";
        if (name.startsWith("licensebroker.v1.")) {
            text = "[" + text + "](#" + headingPrefix + anchor(shown) + ")";
        }
        return stream ? "stream " + text : text;
    }

    /** GitHub's heading anchors: lower case, dots and spaces dropped or turned into dashes. */
    private static String anchor(String heading) {
        return heading.toLowerCase(Locale.ROOT).replace(".", "");
    }

    private static void paragraph(StringBuilder md, String comment) {
        if (comment != null && !comment.isBlank()) {
            md.append(comment.strip().lines().map(String::strip).collect(Collectors.joining("\n"))).append("\n\n");
        }
    }

    private static String cell(String comment) {
        if (comment == null) {
            return "";
        }
        return comment.strip().lines().map(String::strip).collect(Collectors.joining(" ")).replace("|", "\\|");
    }

    private static Map<List<Integer>, String> comments(SourceCodeInfo info) {
        Map<List<Integer>, String> byPath = new HashMap<>();
        for (SourceCodeInfo.Location location : info.getLocationList()) {
            if (location.hasLeadingComments() || location.hasTrailingComments()) {
                String text = location.hasLeadingComments() ? location.getLeadingComments() : location.getTrailingComments();
                byPath.put(List.copyOf(location.getPathList()), text);
            }
        }
        return byPath;
    }

    private static List<Integer> append(List<Integer> path, int... more) {
        List<Integer> longer = new ArrayList<>(path);
        for (int i : more) {
            longer.add(i);
        }
        return longer;
    }

    private static FileDescriptorSet descriptors() {
        try (InputStream in = ApiReference.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the class path: the proto module writes it at build time");
            }
            return FileDescriptorSet.parseFrom(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
