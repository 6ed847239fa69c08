#!/usr/bin/env python3
"""Independent numpy re-implementation of the torch.optim update rules.

Replays every case of Tests/Fixtures/torch_optim.json from theta_0 with the
update rules written out below (the torch 2.x single-tensor semantics the
Swift optimizers must match) and fails if any recomputed gradient, loss or
parameter deviates from torch's by more than 1e-11 (relative,
max-norm / (1 + max-norm)). Run by run-all after torch_optim.py.

Conventions (t = 1, 2, ...; g = raw gradient; g <- -g if maximize;
g <- g + weightDecay * theta for every optimizer except adamw):
  sgd:      theta -= lr * g
  momentum: buf = g (t == 1) else mu * buf + g   (dampening 0);
            step = g + mu * buf if nesterov else buf; theta -= lr * step
  adagrad:  clr = lr / (1 + (t - 1) * lrDecay); s += g^2 (s_0 = initialAccumulatorValue);
            theta -= clr * g / (sqrt(s) + eps)
  rmsprop:  v = rho v + (1 - rho) g^2; centered: ga = rho ga + (1 - rho) g, avg = sqrt(v - ga^2) + eps,
            else avg = sqrt(v) + eps; momentum > 0: buf = mu buf + g / avg, theta -= lr buf;
            else theta -= lr g / avg
  adadelta: v = rho v + (1 - rho) g^2; delta = sqrt(u + eps) / sqrt(v + eps) * g;
            u = rho u + (1 - rho) delta^2; theta -= lr * delta
  adam:     m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; amsgrad: vmax = max(vmax, v), use vmax;
            theta -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
  adamw:    theta *= (1 - lr * weightDecay) first, then the adam step with no L2 term.
"""
import os
import sys
import json
import math

import numpy as np

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "Tests", "Fixtures", "torch_optim.json")
d = json.load(open(FIXTURE))
A=np.array(d["problems"]["least_squares"]["A"]); b=np.array(d["problems"]["least_squares"]["b"]); m=len(b)
def grad(p,x):
    if p=="rosenbrock":
        X,Y=x; return np.array([-2*(1-X)-400*X*(Y-X*X), 200*(Y-X*X)])
    return A.T@(A@x-b)/m
def loss(p,x):
    if p=="rosenbrock":
        X,Y=x; return (1-X)**2+100*(Y-X*X)**2
    r=A@x-b; return r@r/(2*m)
worst=0; bad=[]
for c in d["cases"]:
    o=c["options"]; opt=c["optimizer"]; p=c["problem"]
    x=np.array(c["trajectory"][0]); n=len(x)
    lr=o["learningRate"]; wd=o["weightDecay"]
    st={}
    errs=[]
    for t in range(1,c["steps"]+1):
        g0=grad(p,x); errs.append(np.max(np.abs(g0-np.array(c["gradients"][t-1])))/(1+np.max(np.abs(g0))))
        errs.append(abs(loss(p,x)-c["loss"][t-1])/(1+abs(loss(p,x))))
        g=-g0 if o["maximize"] else g0.copy()
        if opt!="adamw": g=g+wd*x
        if opt=="sgd": x=x-lr*g
        elif opt=="momentum":
            buf=g.copy() if t==1 else o["momentum"]*st["buf"]+g; st["buf"]=buf
            step=g+o["momentum"]*buf if o["nesterov"] else buf
            x=x-lr*step
        elif opt=="adagrad":
            s=st.get("s",np.full(n,o["initialAccumulatorValue"]))
            clr=lr/(1+(t-1)*o["learningRateDecay"]); s=s+g*g; st["s"]=s
            x=x-clr*g/(np.sqrt(s)+o["epsilon"])
        elif opt=="rmsprop":
            a=o["rho"]; v=a*st.get("v",np.zeros(n))+(1-a)*g*g; st["v"]=v
            if o["centered"]:
                ga=a*st.get("ga",np.zeros(n))+(1-a)*g; st["ga"]=ga; avg=np.sqrt(v-ga*ga)+o["epsilon"]
            else: avg=np.sqrt(v)+o["epsilon"]
            if o["momentum"]>0:
                buf=o["momentum"]*st.get("buf",np.zeros(n))+g/avg; st["buf"]=buf; x=x-lr*buf
            else: x=x-lr*g/avg
        elif opt=="adadelta":
            r=o["rho"]; e=o["epsilon"]
            v=r*st.get("v",np.zeros(n))+(1-r)*g*g; st["v"]=v
            delta=np.sqrt(st.get("u",np.zeros(n))+e)/np.sqrt(v+e)*g
            st["u"]=r*st.get("u",np.zeros(n))+(1-r)*delta*delta
            x=x-lr*delta
        elif opt in("adam","adamw"):
            if opt=="adamw": x=x*(1-lr*wd)
            b1,b2,e=o["beta1"],o["beta2"],o["epsilon"]
            mm=b1*st.get("m",np.zeros(n))+(1-b1)*g; v=b2*st.get("v",np.zeros(n))+(1-b2)*g*g; st["m"]=mm; st["v"]=v
            if o["amsgrad"]:
                vm=np.maximum(st.get("vm",np.zeros(n)),v); st["vm"]=vm; vv=vm
            else: vv=v
            bc1=1-b1**t; bc2=1-b2**t
            x=x-(lr/bc1)*mm/(np.sqrt(vv)/math.sqrt(bc2)+e)
        tr=np.array(c["trajectory"][t])
        errs.append(np.max(np.abs(x-tr))/(1+np.max(np.abs(tr))))
    e=max(errs); worst=max(worst,e)
    if e>1e-11: print("MISMATCH",c["name"],e); bad.append(c["name"])
print("worst relative deviation numpy vs torch:",worst, "cases", len(d["cases"]))
sys.exit(1 if bad else 0)
