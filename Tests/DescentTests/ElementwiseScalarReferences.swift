import Descent
import Foundation

/// One step of NAdam, RAdam, Adamax, Rprop and ASGD written out in Double from their doc
/// comments, one element at a time, starting from the optimizer's own state before the step
/// (read through its public accessors), so that a step of either precision is compared with the
/// formula evaluated from exactly the same inputs.
///
/// Each returns θ after the step and, per element, the scale the rounding errors are relative
/// to: the sum of the magnitudes of the terms that make up the new θ (and of the terms inside
/// each moment), so a bound of a few ε times it holds under cancellation too.
enum ElementwiseScalarReference {
    struct Step {
        var theta: [Double] = []
        var scale: [Double] = []
        /// ASGD's average after the step, and the scale of its rounding errors (those of θ included).
        var average: [Double] = []
        var averageScale: [Double] = []
    }

    /// The decimal a hyperparameter stands for: Swift's shortest round-trip form, the value
    /// the user wrote (the step scalars are computed from it in Double, as torch does).
    static func decimal<S: BLASScalar>(_ x: S) -> Double { Double("\(x)")! }

    static func nadam<S>(_ o: NAdam<S>, _ p: [S], _ g: [S]) -> Step {
        let t = Double(o.stepCount + 1)
        let lr = decimal(o.learningRate), b1 = decimal(o.beta1), b2 = decimal(o.beta2)
        let eps = decimal(o.epsilon), wd = decimal(o.weightDecay), psi = decimal(o.momentumDecay)
        let m0 = o.firstMoment.isEmpty ? [Double](repeating: 0, count: p.count) : o.firstMoment.map { Double($0) }
        let v0 = o.secondMoment.isEmpty ? [Double](repeating: 0, count: p.count) : o.secondMoment.map { Double($0) }
        let mu = b1 * (1 - 0.5 * pow(0.96, t * psi)), muNext = b1 * (1 - 0.5 * pow(0.96, (t + 1) * psi))
        let product = Double(o.muProduct) * mu, productNext = product * muNext
        var out = Step()
        for i in p.indices {
            var theta = Double(p[i])
            var gi = o.maximize ? -Double(g[i]) : Double(g[i])
            if o.decoupledWeightDecay { theta *= 1 - lr * wd } else { gi += wd * theta }
            let m = b1 * m0[i] + (1 - b1) * gi, v = b2 * v0[i] + (1 - b2) * gi * gi
            let D = (v / (1 - pow(b2, t))).squareRoot() + eps
            let gradientTerm = lr * (1 - mu) / (1 - product) * gi / D
            let momentumTerm = lr * muNext / (1 - productNext) * m / D
            out.theta.append(theta - gradientTerm - momentumTerm)
            let momentumScale = lr * muNext / (1 - productNext) * (Swift.abs(b1 * m0[i]) + Swift.abs((1 - b1) * gi)) / D
            out.scale.append(Swift.abs(theta) + Swift.abs(gradientTerm) + momentumScale)
        }
        return out
    }

    static func radam<S>(_ o: RAdam<S>, _ p: [S], _ g: [S]) -> Step {
        let t = Double(o.stepCount + 1)
        let lr = decimal(o.learningRate), b1 = decimal(o.beta1), b2 = decimal(o.beta2)
        let eps = decimal(o.epsilon), wd = decimal(o.weightDecay)
        let m0 = o.firstMoment.isEmpty ? [Double](repeating: 0, count: p.count) : o.firstMoment.map { Double($0) }
        let v0 = o.secondMoment.isEmpty ? [Double](repeating: 0, count: p.count) : o.secondMoment.map { Double($0) }
        let c1 = 1 - pow(b1, t), c2 = 1 - pow(b2, t)
        let rhoInfinity = 2 / (1 - b2) - 1
        let rho = rhoInfinity - 2 * t * pow(b2, t) / c2
        let r = ((rho - 4) * (rho - 2) * rhoInfinity / ((rhoInfinity - 4) * (rhoInfinity - 2) * rho)).squareRoot()
        var out = Step()
        for i in p.indices {
            var theta = Double(p[i])
            var gi = o.maximize ? -Double(g[i]) : Double(g[i])
            if o.decoupledWeightDecay { theta *= 1 - lr * wd } else { gi += wd * theta }
            let m = b1 * m0[i] + (1 - b1) * gi, v = b2 * v0[i] + (1 - b2) * gi * gi
            let factor = rho > 5 ? lr / c1 * c2.squareRoot() / (v.squareRoot() + eps) * r : lr / c1
            out.theta.append(theta - factor * m)
            out.scale.append(Swift.abs(theta) + factor * (Swift.abs(b1 * m0[i]) + Swift.abs((1 - b1) * gi)))
        }
        return out
    }

    static func adamax<S>(_ o: Adamax<S>, _ p: [S], _ g: [S]) -> Step {
        let t = Double(o.stepCount + 1)
        let lr = decimal(o.learningRate), b1 = decimal(o.beta1), b2 = decimal(o.beta2)
        let eps = decimal(o.epsilon), wd = decimal(o.weightDecay)
        let m0 = o.firstMoment.isEmpty ? [Double](repeating: 0, count: p.count) : o.firstMoment.map { Double($0) }
        let u0 = o.infinityNorm.isEmpty ? [Double](repeating: 0, count: p.count) : o.infinityNorm.map { Double($0) }
        var out = Step()
        for i in p.indices {
            let theta = Double(p[i])
            let gi = (o.maximize ? -Double(g[i]) : Double(g[i])) + wd * theta
            let m = b1 * m0[i] + (1 - b1) * gi
            let u = Swift.max(b2 * u0[i], Swift.abs(gi) + eps)
            let factor = lr / (1 - pow(b1, t)) / u
            out.theta.append(theta - factor * m)
            out.scale.append(Swift.abs(theta) + factor * (Swift.abs(b1 * m0[i]) + Swift.abs((1 - b1) * gi)))
        }
        return out
    }

    static func rprop<S>(_ o: Rprop<S>, _ p: [S], _ g: [S]) -> Step {
        let lr = Double(o.learningRate)
        let previous = o.previousGradient.isEmpty ? [Double](repeating: 0, count: p.count) : o.previousGradient.map { Double($0) }
        let sizes = o.stepSizes.isEmpty ? [Double](repeating: lr, count: p.count) : o.stepSizes.map { Double($0) }
        var out = Step()
        for i in p.indices {
            let theta = Double(p[i])
            let gi = o.maximize ? -Double(g[i]) : Double(g[i])
            let sameSign = gi * previous[i]
            let factor = sameSign > 0 ? Double(o.etaPlus) : sameSign < 0 ? Double(o.etaMinus) : 1
            let size = Swift.min(Swift.max(sizes[i] * factor, Double(o.minimumStepSize)), Double(o.maximumStepSize))
            let direction: Double = sameSign < 0 ? 0 : (gi > 0 ? 1 : gi < 0 ? -1 : 0)
            out.theta.append(theta - direction * size)
            out.scale.append(Swift.abs(theta) + size)
        }
        return out
    }

    static func asgd<S>(_ o: ASGD<S>, _ p: [S], _ g: [S]) -> Step {
        let lambda = decimal(o.lambda), wd = decimal(o.weightDecay)
        let eta = Double(o.currentStepSize), mu = Double(o.averagingWeight)
        let a0 = o.average.isEmpty ? [Double](repeating: 0, count: p.count) : o.average.map { Double($0) }
        var out = Step()
        for i in p.indices {
            let theta = Double(p[i])
            let gi = (o.maximize ? -Double(g[i]) : Double(g[i])) + wd * theta
            let shrunk = theta * (1 - lambda * eta)
            let updated = shrunk - eta * gi
            out.theta.append(updated)
            out.scale.append(Swift.abs(shrunk) + Swift.abs(eta * gi))
            out.average.append(mu == 1 ? updated : a0[i] + mu * (updated - a0[i]))
            let thetaScale = Swift.abs(shrunk) + Swift.abs(eta * gi)
            out.averageScale.append(mu == 1 ? thetaScale : Swift.abs(a0[i]) + mu * (Swift.abs(updated) + Swift.abs(a0[i]) + thetaScale))
        }
        return out
    }
}
