/// A dense row-major matrix: element (i, j) is `elements[i * columns + j]`.
///
/// Small and deliberately plain: it owns its storage and hands BLAS/LAPACK a pointer with
/// leading dimension `columns`.
public struct Matrix<Scalar: BLASScalar>: Equatable, Sendable, Codable {
    public private(set) var rows: Int
    public private(set) var columns: Int
    /// The elements in row-major order. Keep `count == rows * columns`: the BLAS and LAPACK
    /// wrappers check it and throw ``LinearAlgebraError/invalidShape(rows:columns:count:)``.
    public var elements: [Scalar]

    /// Throws unless `elements.count == rows * columns`.
    @inlinable public func checkShape() throws {
        guard elements.count == rows * columns else {
            throw LinearAlgebraError.invalidShape(rows: rows, columns: columns, count: elements.count)
        }
    }

    /// A `rows × columns` matrix filled with `value`.
    /// - Throws: ``LinearAlgebraError/invalidShape(rows:columns:count:)`` for a negative
    ///   dimension, ``LinearAlgebraError/allocationTooLarge(what:bytes:limit:)`` when
    ///   rows · columns elements overflow or exceed what the process can allocate (see ``MemoryLimit``).
    /// - Complexity: O(rows · columns).
    public init(rows: Int, columns: Int, repeating value: Scalar = 0) throws {
        guard rows >= 0, columns >= 0 else { throw LinearAlgebraError.invalidShape(rows: rows, columns: columns, count: 0) }
        let count = MemoryLimit.product([rows, columns])
        try MemoryLimit.require(count.flatMap { MemoryLimit.bytes(count: $0, stride: MemoryLayout<Scalar>.stride) },
                                for: "a \(rows) × \(columns) matrix")
        self.init(checkedRows: rows, columns: columns, repeating: value)
    }

    /// A `rows × columns` matrix filled with `value`, for sizes the caller derived from
    /// matrices or buffers that already exist (traps on a negative dimension).
    @usableFromInline package init(checkedRows rows: Int, columns: Int, repeating value: Scalar = 0) {
        precondition(rows >= 0 && columns >= 0, "Matrix: negative dimension")
        self.rows = rows
        self.columns = columns
        self.elements = Array(repeating: value, count: rows * columns)
    }

    /// A matrix over row-major `elements`; throws if the count is not `rows * columns`.
    public init(rows: Int, columns: Int, elements: [Scalar]) throws {
        guard rows >= 0, columns >= 0, elements.count == rows * columns else {
            throw LinearAlgebraError.invalidShape(rows: rows, columns: columns, count: elements.count)
        }
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// A matrix from an array of equally long rows.
    public init(_ rowArrays: [[Scalar]]) throws {
        let columns = rowArrays.first?.count ?? 0
        for (i, row) in rowArrays.enumerated() where row.count != columns {
            throw LinearAlgebraError.dimensionMismatch(operation: "Matrix(rows:)", expected: "\(columns) columns in row \(i)", actual: "\(row.count)")
        }
        try self.init(rows: rowArrays.count, columns: columns, elements: rowArrays.flatMap { $0 })
    }

    /// The n × n identity.
    /// - Throws: as ``init(rows:columns:repeating:)`` for a negative or too large n.
    /// - Complexity: O(n²).
    public static func identity(_ n: Int) throws -> Matrix {
        var m = try Matrix(rows: n, columns: n)
        for i in 0..<n { m.elements[i * n + i] = 1 }
        return m
    }

    @inlinable public subscript(row: Int, column: Int) -> Scalar {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Matrix index out of range")
            return elements[row * columns + column]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Matrix index out of range")
            elements[row * columns + column] = newValue
        }
    }

    /// The transpose, as a new matrix. - Complexity: O(rows · columns).
    public var transposed: Matrix {
        var t = Matrix(checkedRows: columns, columns: rows)
        for i in 0..<rows { for j in 0..<columns { t.elements[j * rows + i] = elements[i * columns + j] } }
        return t
    }

    /// Fills the strictly lower triangle from the upper one (after `syrk`/`potrf` on `.upper`).
    public mutating func symmetrizeFromUpper() {
        precondition(rows == columns, "symmetrizeFromUpper needs a square matrix")
        let n = rows
        for i in 0..<n { for j in 0..<i { elements[i * n + j] = elements[j * n + i] } }
    }
}
