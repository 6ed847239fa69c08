import DescentLinearAlgebra
import Testing
import DescentTestSupport

/// Matrix sizes that are negative, overflow rows · columns, or exceed what the process can
/// allocate: thrown errors naming the sizes, never a trap.
@Suite struct MatrixSizeTests {
    @Test(arguments: Precision.allCases) func impossibleSizesThrow(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            #expect(throws: LinearAlgebraError.invalidShape(rows: -1, columns: 3, count: 0)) { _ = try Matrix<S>(rows: -1, columns: 3) }
            #expect(throws: LinearAlgebraError.invalidShape(rows: 2, columns: Int.min, count: 0)) { _ = try Matrix<S>(rows: 2, columns: Int.min) }
            #expect(throws: LinearAlgebraError.invalidShape(rows: -4, columns: -4, count: 0)) { _ = try Matrix<S>.identity(-4) }
            for (rows, columns) in [(Int.max, 2), (1 << 32, 1 << 32), (3_000_000, 3_000_000)] {
                do {
                    _ = try Matrix<S>(rows: rows, columns: columns)
                    Issue.record("\(rows) × \(columns) was allocated")
                } catch let LinearAlgebraError.allocationTooLarge(what, _, limit) {
                    #expect(what.contains("\(rows) × \(columns)"))
                    #expect(limit <= MemoryLimit.physicalBytes)
                }
            }
            #expect(throws: LinearAlgebraError.self) { _ = try Matrix<S>.identity(Int.max) }
            #expect(throws: LinearAlgebraError.self) { _ = try Matrix<S>.identity(1 << 31) }
            let i = try Matrix<S>.identity(3)
            #expect(i.elements == [1, 0, 0, 0, 1, 0, 0, 0, 1])
            #expect(try Matrix<S>(rows: 0, columns: 5, repeating: 2).elements.isEmpty)
        }
        try run(p.scalarType)
    }

    /// The overflow-checked products and sums, and the limit never above physical memory.
    @Test func memoryLimitArithmetic() {
        #expect(MemoryLimit.product([3, 5, 8]) == 120)
        #expect(MemoryLimit.product([Int.max, 2]) == nil)
        #expect(MemoryLimit.product([-1, 2]) == nil)
        #expect(MemoryLimit.sum([1, 2, 3]) == 6)
        #expect(MemoryLimit.sum([Int.max, 1]) == nil)
        #expect(MemoryLimit.sum([1, nil]) == nil)
        #expect(MemoryLimit.sum([-3, 5]) == nil)
        #expect(MemoryLimit.bytes(count: Int.max / 4, stride: 8) == nil)
        #expect(MemoryLimit.availableBytes > 0 && MemoryLimit.availableBytes <= MemoryLimit.physicalBytes)
        if let limit = MemoryLimit.addressSpaceLimit { #expect(MemoryLimit.availableBytes <= limit) }
        #expect(throws: LinearAlgebraError.self) { try MemoryLimit.require(nil, for: "nothing") }
        #expect(throws: Never.self) { try MemoryLimit.require(1 << 20, for: "a megabyte") }
        #expect(MemoryLimit.format(1_500_000_000) == "1.5 GB")
    }
}
